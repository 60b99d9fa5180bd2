import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openAuditLog, type AuditLog } from '../../src/audit/audit-log.ts';
import { auditFiles } from '../../src/audit/read-audit.ts';
import type { AuditRecord } from '../../src/audit/audit-record.ts';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import { AccessPolicy } from '../../src/conversation/access-policy.ts';
import { Conversation } from '../../src/conversation/conversation.ts';
import type { InboundAttachment } from '../../src/core/inbound-message.ts';
import type { Reply } from '../../src/core/reply.ts';
import type { UsageSettings } from '../../src/core/usage-settings.ts';
import { EmbeddedJobQueue } from '../../src/jobs/embedded-job-queue.ts';
import { JobExecutor } from '../../src/jobs/job-executor.ts';
import { SqliteMeterStore } from '../../src/metering/sqlite-meter-store.ts';
import { MemorySessionStore } from '../../src/sessions/memory-session-store.ts';
import { openDatabase, type DatabaseSync } from '../../src/sqlite/open-database.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai-server.ts';
import { removeDataDir, tempDataDir } from '../support/data-dir.ts';
import { quietLogger, startManager, type ManagerHarness } from '../support/sandbox.ts';

const services = inject('services');

const API_KEY = 'sk-test-secret-never-in-audit';
const CSV = 'month,revenue\n1,100\n2,250\n';

describe.skipIf(services.sandboxImage === undefined)(
  'a turn is metered and each of its cells audited',
  () => {
    let harness: ManagerHarness;
    let fake: FakeOpenAI;
    let dataDir: string;
    let db: DatabaseSync;
    let meters: SqliteMeterStore;
    let audit: AuditLog;
    let jobs: EmbeddedJobQueue;
    let conversation: Conversation;
    let blobs: MemoryBlobStore;
    const settings: UsageSettings = {
      prices: { 'fake-model': { inputPerMillion: 2, outputPerMillion: 8 } },
      currency: 'EUR',
      timeZone: 'UTC',
      audit: { kind: 'file', path: '' },
      auditMaxBytes: 1024 * 1024,
      budgets: { limits: [], admins: [] },
    };

    beforeAll(async () => {
      harness = await startManager({ poolSize: 1 });
      fake = await startFakeOpenAI();
      dataDir = tempDataDir('usage');
      db = openDatabase(dataDir);
      meters = new SqliteMeterStore(db);
      const auditPath = join(dataDir, 'audit.jsonl');
      const opened = openAuditLog(
        { ...settings, audit: { kind: 'file', path: auditPath } },
        'test-1',
        quietLogger,
      );
      if (opened === undefined) throw new Error('no audit log');
      audit = opened;
      blobs = new MemoryBlobStore({ maxBlobBytes: 10 * 1024 * 1024, ttlMs: 60_000 });
      jobs = new EmbeddedJobQueue(
        new JobExecutor({ manager: harness.manager, blobs, workerId: 'e', logger: quietLogger }),
      );
      conversation = new Conversation({
        jobs,
        blobs,
        sessions: new MemorySessionStore(60_000, blobs),
        agent: { maxSteps: 5, turnTimeoutMs: 60_000, maxAttachmentBytes: 4096, maxAttachments: 2 },
        logger: quietLogger,
        model: {
          client: new OpenAI({ apiKey: API_KEY, baseURL: fake.baseUrl, maxRetries: 0 }),
          name: 'fake-model',
        },
        policy: new AccessPolicy({
          allowedUsers: undefined,
          allowedChannels: undefined,
          userRatePerMinute: 0,
        }),
        usage: { settings, meters, audit },
      });
    });

    afterAll(async () => {
      await fake.close();
      await jobs.close();
      expect(await harness.close()).toBe(0);
      db.close();
      removeDataDir(dataDir);
    });

    async function send(text: string, attachments: InboundAttachment[] = []): Promise<Reply> {
      let reply: Reply | undefined;
      await conversation.handle(
        { sessionKey: 'slack:T1:C1:171.5', author: { id: 'U7', name: 'ana' }, text, attachments },
        {
          progress: () => undefined,
          reply: (r) => {
            reply = r;
            return Promise.resolve();
          },
        },
      );
      if (reply === undefined) throw new Error('no reply');
      return reply;
    }

    /** The turn's totals are stored after the reply, in the background. */
    async function threadTotals() {
      for (let i = 0; i < 50; i += 1) {
        const totals = await meters.read({ scope: 'thread:slack:T1:C1:171.5', period: 'total' });
        if (totals.turns > 0) return totals;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the turn was not metered');
    }

    it('counts the tokens the model reported, the cells, CPU and bytes, and audits each cell', async () => {
      const first =
        'import pandas as pd\ndf = pd.read_csv("/mnt/data/sales.csv")\nint(df.revenue.sum())';
      const second = 'open("/mnt/data/total.txt", "w").write(str(int(df.revenue.sum())))';
      fake.script(
        { kind: 'tool', calls: [{ name: 'python', arguments: JSON.stringify({ code: first }) }] },
        { kind: 'tool', calls: [{ name: 'python', arguments: JSON.stringify({ code: second }) }] },
        { kind: 'text', text: 'The total is 350; it is in total.txt.' },
      );
      const content = Buffer.from(CSV);
      const reply = await send('total revenue please', [
        { name: 'sales.csv', sizeBytes: content.length, fetch: () => Promise.resolve(content) },
      ]);
      expect(reply.files.map((f) => f.name)).toEqual(['total.txt']);

      const totals = await threadTotals();
      const reported = fake.reportedUsage;
      expect(reported).toHaveLength(3);
      const prompt = reported.reduce((sum, u) => sum + u.prompt_tokens, 0);
      const completion = reported.reduce((sum, u) => sum + u.completion_tokens, 0);
      expect(totals.promptTokens).toBe(prompt);
      expect(totals.completionTokens).toBe(completion);
      expect(totals.modelCalls).toBe(3);
      expect(totals.cells).toBe(2);
      expect(totals.bytesIn).toBe(content.length);
      expect(totals.bytesOut).toBe(3);
      expect(totals.cpuSeconds).toBeGreaterThan(0);
      expect(totals.memoryPeakBytes).toBeGreaterThan(0);
      expect(totals.cost).toBeCloseTo((prompt * 2 + completion * 8) / 1e6, 12);
      for (const scope of ['user:slack:U7', 'channel:slack:T1:C1', 'workspace:slack:T1']) {
        const day = new Date().toISOString().slice(0, 10);
        expect((await meters.read({ scope, period: day })).promptTokens).toBe(prompt);
      }

      await audit.flush();
      const files = await auditFiles(join(dataDir, 'audit.jsonl'));
      expect(files).toEqual([join(dataDir, 'audit.test-1.jsonl')]);
      const text = readFileSync(files[0] ?? '', 'utf8');
      const lines = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as AuditRecord);
      expect(lines.map((l) => l.source)).toEqual(['upload', 'model', 'model']);
      const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
      for (const line of lines) {
        expect(line).toMatchObject({
          platform: 'slack',
          workspace: 'T1',
          channel: 'C1',
          thread: '171.5',
          user: 'U7',
          status: 'ok',
        });
        expect(Date.parse(line.time)).not.toBeNaN();
        expect(line.durationMs).toBeGreaterThanOrEqual(0);
        expect(typeof line.cpuSeconds).toBe('number');
      }
      expect(lines[0]?.filesIn).toEqual([
        { name: 'sales.csv', sizeBytes: content.length, sha256: sha(content) },
      ]);
      expect(lines[1]).toMatchObject({
        model: 'fake-model',
        codeSha256: sha(first),
        codeBytes: Buffer.byteLength(first),
        filesIn: [],
        filesOut: [],
      });
      expect(lines[2]?.filesOut).toEqual([{ name: 'total.txt', sizeBytes: 3, sha256: sha('350') }]);
      // Nothing secret and no contents: no key, no code, no file bytes, no output.
      expect(text).not.toContain(API_KEY);
      expect(text).not.toContain('read_csv');
      expect(text).not.toContain('month,revenue');
      expect(text).not.toContain('350');

      const status = await send('status');
      expect(status.text).toContain(
        `This thread: ${prompt.toLocaleString('en-US')} tokens in, ${completion.toLocaleString('en-US')} out (3 model calls), 2 cells`,
      );
      expect(status.text).toMatch(/You today \(\d{4}-\d{2}-\d{2}, UTC\): /);
      expect(status.text).toMatch(/cost [\d.e-]+ EUR/);
    });

    it('refuses the next cell of a turn once a daily cell budget is reached, and the model is told', async () => {
      const limited = new Conversation({
        jobs,
        blobs,
        sessions: new MemorySessionStore(60_000, blobs),
        agent: { maxSteps: 5, turnTimeoutMs: 60_000, maxAttachmentBytes: 4096, maxAttachments: 2 },
        logger: quietLogger,
        model: {
          client: new OpenAI({ apiKey: API_KEY, baseURL: fake.baseUrl, maxRetries: 0 }),
          name: 'fake-model',
        },
        policy: new AccessPolicy({
          allowedUsers: undefined,
          allowedChannels: undefined,
          userRatePerMinute: 0,
        }),
        usage: {
          settings: {
            ...settings,
            budgets: {
              limits: [{ scope: 'user', metric: 'cells', limit: 1, setting: 'BUDGET_USER_CELLS' }],
              admins: [],
            },
          },
          meters,
        },
      });
      const call = (code: string) => ({
        kind: 'tool' as const,
        calls: [{ name: 'python', arguments: JSON.stringify({ code }) }],
      });
      let toolResult = '';
      fake.script(call('a = 1'), call('a + 1'), (request) => {
        const last = request.body.messages.at(-1) as { content?: string };
        toolResult = last.content ?? '';
        return { kind: 'text', text: 'I could not run the second cell.' };
      });
      let reply: Reply | undefined;
      await limited.handle(
        {
          sessionKey: 'slack:T1:C2:9.9',
          author: { id: 'U8', name: 'bo' },
          text: 'go',
          attachments: [],
        },
        {
          progress: () => undefined,
          reply: (r) => {
            reply = r;
            return Promise.resolve();
          },
        },
      );
      expect(reply?.text).toBe('I could not run the second cell.');
      expect(toolResult).toMatch(/daily limit of 1 code cells \(BUDGET_USER_CELLS\)/);
    });
  },
);
