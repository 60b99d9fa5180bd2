import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import { AccessPolicy } from '../../src/conversation/access-policy.ts';
import { Conversation } from '../../src/conversation/conversation.ts';
import type { JobQueue } from '../../src/core/job.ts';
import type { Reply } from '../../src/core/reply.ts';
import type { UsageSettings } from '../../src/core/usage-settings.ts';
import { nextDayStart } from '../../src/metering/metered-day.ts';
import { SqliteMeterStore } from '../../src/metering/sqlite-meter-store.ts';
import { MemorySessionStore } from '../../src/sessions/memory-session-store.ts';
import { openDatabase, type DatabaseSync } from '../../src/sqlite/open-database.ts';
import { pino } from 'pino';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai-server.ts';
import { removeDataDir, tempDataDir } from '../support/data-dir.ts';

/** These turns only talk: no cell may be submitted. */
const noJobs: JobQueue = {
  submit: () => Promise.reject(new Error('no cell should run')),
  close: () => Promise.resolve(),
};

describe('daily budgets', () => {
  let fake: FakeOpenAI;
  let dataDir: string;
  let db: DatabaseSync;
  let conversation: Conversation;
  let meters: SqliteMeterStore;
  const settings: UsageSettings = {
    prices: {},
    currency: 'USD',
    timeZone: 'UTC',
    audit: { kind: 'off' },
    auditMaxBytes: 1024,
    budgets: {
      // Any answer costs more than 10 tokens: the first turn of the day uses the budget up.
      limits: [{ scope: 'user', metric: 'tokens', limit: 10, setting: 'BUDGET_USER_TOKENS' }],
      admins: ['slack:UADMIN'],
    },
  };

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    dataDir = tempDataDir('budgets');
    db = openDatabase(dataDir);
    meters = new SqliteMeterStore(db);
    const blobs = new MemoryBlobStore({ maxBlobBytes: 1024, ttlMs: 60_000 });
    conversation = new Conversation({
      jobs: noJobs,
      blobs,
      sessions: new MemorySessionStore(60_000, blobs),
      agent: { maxSteps: 3, turnTimeoutMs: 30_000, maxAttachmentBytes: 1024, maxAttachments: 1 },
      logger: pino({ level: 'silent' }),
      model: {
        client: new OpenAI({ apiKey: 't', baseURL: fake.baseUrl, maxRetries: 0 }),
        name: 'fake-model',
      },
      policy: new AccessPolicy({
        allowedUsers: undefined,
        allowedChannels: undefined,
        userRatePerMinute: 0,
      }),
      usage: { settings, meters },
    });
  });

  afterAll(async () => {
    await fake.close();
    db.close();
    removeDataDir(dataDir);
  });

  async function ask(user: string, thread: string, text: string): Promise<Reply> {
    let reply: Reply | undefined;
    await conversation.handle(
      {
        sessionKey: `slack:T1:C1:${thread}`,
        author: { id: user, name: user },
        text,
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
    if (reply === undefined) throw new Error('no reply');
    return reply;
  }

  /** Usage is stored just after the reply, in the background: wait until it is there. */
  async function settle(user: string): Promise<void> {
    const day = new Date().toISOString().slice(0, 10);
    for (let i = 0; i < 100; i += 1) {
      if ((await meters.read({ scope: `user:slack:${user}`, period: day })).turns > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`the turn of ${user} was not metered`);
  }

  it("refuses a person's next turn once the first used up the day's tokens, naming the limit and the reset", async () => {
    fake.script({ kind: 'text', text: 'The answer is forty-two, as always.' });
    const first = await ask('U1', '1.1', 'what is the answer?');
    expect(first.text).toBe('The answer is forty-two, as always.');
    await settle('U1');
    const requests = fake.requests.length;
    const second = await ask('U1', '1.2', 'and another question?');
    expect(second.text).toMatch(/daily limit of 10 model tokens \(BUDGET_USER_TOKENS\)/);
    expect(second.text).toMatch(/resets at midnight UTC \(in (\d+ h )?\d+ min\)/);
    expect(fake.requests.length).toBe(requests);
    // Commands still answer, and someone else is not limited by U1's use.
    expect((await ask('U1', '1.2', 'help')).text).toContain('status');
    fake.script({ kind: 'text', text: 'Hello U2.' });
    expect((await ask('U2', '2.1', 'hi')).text).toBe('Hello U2.');
  });

  it('never refuses an admin', async () => {
    fake.script({ kind: 'text', text: 'First answer for the admin, long enough.' });
    await ask('UADMIN', '3.1', 'first');
    await settle('UADMIN');
    fake.script({ kind: 'text', text: 'Second answer for the admin.' });
    expect((await ask('UADMIN', '3.2', 'second')).text).toBe('Second answer for the admin.');
  });

  it('knows when the next day begins in a time zone', () => {
    const at = new Date('2026-03-29T12:34:56Z');
    expect(nextDayStart(at, 'UTC').toISOString()).toBe('2026-03-30T00:00:00.000Z');
    expect(nextDayStart(at, 'Europe/Paris').toISOString()).toBe('2026-03-29T22:00:00.000Z');
  });
});
