import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AuditRecord } from './audit-record.ts';

/** Which lines `sandbot audit` shows; each given filter must match. */
export interface AuditFilter {
  /** A user id, or `platform:user-id`. */
  readonly user?: string;
  /** A channel id, or `platform:channel-id`. */
  readonly channel?: string;
  /** Only lines at or after this time. */
  readonly since?: Date;
}

/**
 * The audit files at `path`: the file itself, or every audit file in a folder (live and
 * rotated, of every process: `*.jsonl` and `*.jsonl.N`). For the path AUDIT_LOG names, the
 * per-process files beside it (`audit.jsonl` → `audit.*.jsonl*`).
 */
export async function auditFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory() === true) {
    const names = await readdir(path);
    return names.filter((n) => /\.jsonl(\.\d+)?$/.test(n)).map((n) => join(path, n));
  }
  if (info !== undefined) return [path];
  // The name AUDIT_LOG gives: the per-process files beside it.
  const stem = basename(path, extname(path));
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  return names
    .filter((n) => n.startsWith(`${stem}.`) && /\.jsonl(\.\d+)?$/.test(n))
    .map((n) => join(dirname(path), n));
}

/** The matching records of these files, oldest first. Lines that are not records are skipped. */
export async function readAudit(
  files: readonly string[],
  filter: AuditFilter,
): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) {
      const record = parseLine(line);
      if (record !== undefined && matches(record, filter)) records.push(record);
    }
  }
  return records.sort((a, b) => a.time.localeCompare(b.time));
}

function parseLine(line: string): AuditRecord | undefined {
  if (line.trim() === '') return undefined;
  try {
    const value = JSON.parse(line) as Partial<AuditRecord>;
    const ok =
      typeof value.time === 'string' &&
      typeof value.platform === 'string' &&
      typeof value.user === 'string' &&
      typeof value.channel === 'string';
    return ok ? (value as AuditRecord) : undefined;
  } catch {
    return undefined;
  }
}

function matches(record: AuditRecord, filter: AuditFilter): boolean {
  if (filter.user !== undefined && !idMatches(record.platform, record.user, filter.user)) {
    return false;
  }
  if (filter.channel !== undefined && !idMatches(record.platform, record.channel, filter.channel)) {
    return false;
  }
  return filter.since === undefined || Date.parse(record.time) >= filter.since.getTime();
}

function idMatches(platform: string, id: string, wanted: string): boolean {
  return wanted === id || wanted === `${platform}:${id}`;
}

/** `2026-11-29`, an ISO time, or a span back from now: `90m`, `24h`, `7d`. */
export function parseSince(text: string, now: Date = new Date()): Date | undefined {
  const span = /^(\d+)([mhd])$/.exec(text);
  if (span !== null) {
    const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000 }[span[2] as 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(span[1]) * unitMs);
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? undefined : at;
}
