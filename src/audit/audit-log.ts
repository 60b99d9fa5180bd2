import { appendFile, mkdir, rename, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { UsageSettings } from '../core/usage-settings.ts';
import type { Logger } from '../logging/logger.ts';
import type { AuditRecord } from './audit-record.ts';

/** Where audit lines go. `write` never throws and never waits: a turn does not wait on it. */
export interface AuditLog {
  write(record: AuditRecord | Promise<AuditRecord>): void;
  /** Resolves once every line written so far is out (tests, shutdown). */
  flush(): Promise<void>;
}

/** Rotated files kept next to the live one (`.1` the newest). */
const KEPT_ROTATIONS = 5;

/**
 * The audit log AUDIT_LOG asks for, or undefined for `off`. A file path gets one file per
 * process (`audit.jsonl` → `audit.<processId>.jsonl`), so bot processes sharing a directory
 * never interleave partial lines, and `sandbot audit` reads them all from the folder.
 */
export function openAuditLog(
  settings: Pick<UsageSettings, 'audit' | 'auditMaxBytes'>,
  processId: string,
  logger: Logger,
): AuditLog | undefined {
  const destination = settings.audit;
  if (destination.kind === 'off') return undefined;
  const write =
    destination.kind === 'stdout'
      ? (line: string) =>
          new Promise<void>((resolve) => process.stdout.write(line, () => resolve()))
      : rotatingFile(perProcessPath(destination.path, processId), settings.auditMaxBytes);
  return new SerialAuditLog(write, logger);
}

/** `/var/log/sandbot/audit.jsonl` → `/var/log/sandbot/audit.<processId>.jsonl`. */
export function perProcessPath(path: string, processId: string): string {
  const extension = extname(path) || '.jsonl';
  const stem = basename(path, extname(path));
  const safeId = processId.replace(/[^A-Za-z0-9._-]/g, '_');
  return join(dirname(path), `${stem}.${safeId}${extension}`);
}

/** Appends lines to `path`, moving it to `.1` (and older ones along) once it reaches maxBytes. */
function rotatingFile(path: string, maxBytes: number): (line: string) => Promise<void> {
  let size: number | undefined;
  return async (line) => {
    if (size === undefined) {
      await mkdir(dirname(path), { recursive: true });
      size = await stat(path).then(
        (s) => s.size,
        () => 0,
      );
    }
    if (size > 0 && size + Buffer.byteLength(line) > maxBytes) {
      for (let i = KEPT_ROTATIONS - 1; i >= 1; i -= 1) {
        await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => undefined);
      }
      await rename(path, `${path}.1`);
      size = 0;
    }
    await appendFile(path, line, { mode: 0o640 });
    size += Buffer.byteLength(line);
  };
}

/** Writes lines one after another in the order given, logging (not throwing) a failure. */
class SerialAuditLog implements AuditLog {
  private tail: Promise<void> = Promise.resolve();
  private readonly writeLine: (line: string) => Promise<void>;
  private readonly logger: Logger;

  constructor(writeLine: (line: string) => Promise<void>, logger: Logger) {
    this.writeLine = writeLine;
    this.logger = logger;
  }

  write(record: AuditRecord | Promise<AuditRecord>): void {
    this.tail = this.tail.then(async () => {
      try {
        await this.writeLine(`${JSON.stringify(await record)}\n`);
      } catch (error) {
        this.logger.warn({ err: error }, 'could not write an audit line');
      }
    });
  }

  flush(): Promise<void> {
    return this.tail;
  }
}
