import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuditLog, perProcessPath } from '../../src/audit/audit-log.ts';
import type { AuditRecord } from '../../src/audit/audit-record.ts';
import { auditFiles, parseSince, readAudit } from '../../src/audit/read-audit.ts';
import { removeDataDir, tempDataDir } from '../support/data-dir.ts';

const quiet = pino({ level: 'silent' });

function record(overrides: Partial<AuditRecord>): AuditRecord {
  return {
    time: '2026-11-29T05:00:00.000Z',
    platform: 'slack',
    workspace: 'T1',
    channel: 'C1',
    thread: '1.1',
    user: 'U1',
    source: 'direct',
    codeSha256: 'ab'.repeat(32),
    codeBytes: 3,
    status: 'ok',
    durationMs: 10,
    cpuSeconds: 0.01,
    filesIn: [],
    filesOut: [],
    ...overrides,
  };
}

describe('the audit trail', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach(removeDataDir));
  const tempDir = () => {
    const dir = tempDataDir('audit');
    dirs.push(dir);
    return dir;
  };

  it('writes one file per process beside the path AUDIT_LOG names', () => {
    expect(perProcessPath('/var/log/sandbot/audit.jsonl', 'bot-1-42')).toBe(
      '/var/log/sandbot/audit.bot-1-42.jsonl',
    );
    expect(perProcessPath('/logs/audit', 'w/1')).toBe('/logs/audit.w_1.jsonl');
  });

  it('rotates a file at its size limit and reads the live and rotated files back in order', async () => {
    const dir = tempDir();
    const log = openAuditLog(
      { audit: { kind: 'file', path: join(dir, 'audit.jsonl') }, auditMaxBytes: 700 },
      'p1',
      quiet,
    );
    for (let i = 0; i < 4; i += 1) {
      log?.write(record({ time: `2026-11-29T05:0${i}:00.000Z`, user: `U${i}` }));
    }
    await log?.flush();
    const files = await auditFiles(join(dir, 'audit.jsonl'));
    expect(files.length).toBeGreaterThan(1);
    expect(files.every((f) => readFileSync(f).length <= 700)).toBe(true);
    const all = await readAudit(files, {});
    expect(all.map((r) => r.user)).toEqual(['U0', 'U1', 'U2', 'U3']);
    expect((await readAudit(await auditFiles(dir), {})).length).toBe(4);
  });

  it('filters by user, channel and time, with or without the platform', async () => {
    const dir = tempDir();
    const lines = [
      record({ user: 'U1', channel: 'C1', time: '2026-11-28T10:00:00.000Z' }),
      record({ user: 'U2', channel: 'C2', time: '2026-11-29T10:00:00.000Z' }),
      record({ platform: 'discord', user: 'U1', channel: 'C9', time: '2026-11-29T11:00:00.000Z' }),
    ];
    writeFileSync(
      join(dir, 'a.jsonl'),
      `${lines.map((l) => JSON.stringify(l)).join('\n')}\nnot json\n`,
    );
    const files = [join(dir, 'a.jsonl')];
    expect((await readAudit(files, { user: 'U1' })).length).toBe(2);
    expect((await readAudit(files, { user: 'slack:U1' })).length).toBe(1);
    expect((await readAudit(files, { channel: 'discord:C9' })).length).toBe(1);
    const since = parseSince('2026-11-29');
    expect(since).toBeDefined();
    expect((await readAudit(files, since === undefined ? {} : { since })).length).toBe(2);
  });

  it('reads --since as a date, an ISO time or a span back from now', () => {
    const now = new Date('2026-11-29T12:00:00.000Z');
    expect(parseSince('24h', now)?.toISOString()).toBe('2026-11-28T12:00:00.000Z');
    expect(parseSince('90m', now)?.toISOString()).toBe('2026-11-29T10:30:00.000Z');
    expect(parseSince('7d', now)?.toISOString()).toBe('2026-11-22T12:00:00.000Z');
    expect(parseSince('yesterday', now)).toBeUndefined();
  });
});
