import { parseArgs } from 'node:util';
import type { AuditFile, AuditRecord } from '../../audit/audit-record.ts';
import { auditFiles, parseSince, readAudit, type AuditFilter } from '../../audit/read-audit.ts';
import { formatBytes } from '../../core/bytes.ts';
import { UsageError, type Command } from '../command.ts';
import { ExitCode } from '../exit-codes.ts';

const HELP = `Usage: sandbot audit [PATH] [--user ID] [--channel ID] [--since WHEN] [--json]

Shows the audit trail: one line per cell that ran, oldest first (who, where, whether the model
or the person wrote the code, the code's sha256 and size, status, time, CPU-seconds, files in
and out with sizes and hashes). PATH is an audit file or a folder of them (every process
writes its own file, rotated ones included); default: the files of AUDIT_LOG.

Options:
  --user ID      only cells of this user (an id, or platform:id such as slack:U0123)
  --channel ID   only cells in this channel (an id, or platform:id)
  --since WHEN   only cells from then on: a date (2026-11-29), an ISO time, or 90m, 24h, 7d
  --json         print the matching lines as they are stored (JSON Lines)

Exit status: 0 when done (also when nothing matched); 2 for a bad command line or no audit
file to read.`;

export const auditCommand: Command = {
  name: 'audit',
  summary: 'show the audit trail of cells run (AUDIT_LOG files), filtered by user, channel, time',
  help: HELP,
  async run(args, context) {
    const options = parseAuditArgs(args);
    const path = options.path ?? auditPathOf(context.env.AUDIT_LOG);
    const files = await auditFiles(path);
    if (files.length === 0) throw new UsageError(`no audit files at ${path}`);
    const records = await readAudit(files, options.filter);
    for (const record of records) {
      context.stdout.write(`${options.json ? JSON.stringify(record) : describe(record)}\n`);
    }
    if (!options.json) context.stdout.write(`${records.length} cell(s)\n`);
    return ExitCode.Ok;
  },
};

function auditPathOf(setting: string | undefined): string {
  const value = setting?.trim();
  if (value === undefined || value === '' || value === 'off' || value === 'stdout') {
    throw new UsageError(
      'give the audit file or folder to read (AUDIT_LOG is not a file path here)',
    );
  }
  return value;
}

function parseAuditArgs(args: readonly string[]): {
  path: string | undefined;
  filter: AuditFilter;
  json: boolean;
} {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        user: { type: 'string' },
        channel: { type: 'string' },
        since: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError('give at most one audit file or folder');
  let since: Date | undefined;
  if (values.since !== undefined) {
    since = parseSince(values.since);
    if (since === undefined) {
      throw new UsageError('--since takes a date (2026-11-29), an ISO time, or 90m, 24h, 7d');
    }
  }
  return {
    path: positionals[0],
    json: values.json ?? false,
    filter: {
      ...(values.user === undefined ? {} : { user: values.user }),
      ...(values.channel === undefined ? {} : { channel: values.channel }),
      ...(since === undefined ? {} : { since }),
    },
  };
}

/** One record as one readable line. */
function describe(r: AuditRecord): string {
  const who = r.source === 'model' ? `model ${r.model ?? '?'}` : r.source;
  const cpu = r.cpuSeconds === undefined ? 'cpu ?' : `cpu ${r.cpuSeconds.toFixed(2)}s`;
  const memory = r.memoryPeakBytes === undefined ? '' : ` mem ${formatBytes(r.memoryPeakBytes)}`;
  const files = (label: string, list: readonly AuditFile[]) =>
    list.length === 0 ? '' : ` ${label} ${list.map(describeFile).join(', ')}`;
  return (
    `${r.time} ${r.platform}:${r.workspace}/${r.channel}/${r.thread} user ${r.user} ${who} ` +
    `code sha256:${r.codeSha256.slice(0, 12)} ${formatBytes(r.codeBytes)} ${r.status} ` +
    `${r.durationMs} ms ${cpu}${memory}${files('in', r.filesIn)}${files('out', r.filesOut)}`
  );
}

function describeFile(f: AuditFile): string {
  return `${f.name} (${formatBytes(f.sizeBytes)}${f.sha256 === undefined ? '' : ` sha256:${f.sha256.slice(0, 12)}`})`;
}
