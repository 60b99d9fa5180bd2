import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { ClaimedTurn, NewTurn, TurnStore } from '../../src/core/turn-store.ts';
import { RedisTurnStore } from '../../src/conversation/redis-turn-store.ts';
import { SqliteTurnStore } from '../../src/conversation/sqlite-turn-store.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { DATABASE_FILE, openDatabase, type DatabaseSync } from '../../src/sqlite/open-database.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';

const services = inject('services');
const run = promisify(execFile);

/** Long enough never to run out during a test. */
const HOLD_MS = 60_000;
/** Short enough that a test can outlive it: a runner that stopped renewing. */
const SHORT_LEASE_MS = 200;
/** Longer than any test runs: a wait that ends did so because of a wake-up or an abort. */
const NEVER_MS = 10 * 60_000;

/** One backend for one test: every `open()` is another process's view of the same turns. */
interface Backend {
  open(): Promise<TurnStore>;
  dispose(): Promise<void>;
}

function redisBackend(testName: string): Backend {
  const url = services.redisUrl ?? '';
  const prefix = uniquePrefix(testName);
  const opened: { store: TurnStore; redis: Redis }[] = [];
  return {
    async open() {
      const redis = await connectRedis(url);
      const store = new RedisTurnStore(redis, prefix);
      opened.push({ store, redis });
      return store;
    },
    async dispose() {
      for (const { store } of opened) await store.close();
      const redis = await connectRedis(url);
      await deleteKeys(redis, prefix);
      await redis.quit();
      for (const { redis } of opened) await redis.quit();
    },
  };
}

/**
 * `shared`: each store on a database opened by src/sqlite/open-database.ts (as the embedded
 * mode shares one file among its stores), else on a path the store opens itself.
 */
async function sqliteBackend(shared: boolean): Promise<Backend> {
  const dir = await mkdtemp(join(tmpdir(), 'sandbot-turns-'));
  const stores: TurnStore[] = [];
  const databases: DatabaseSync[] = [];
  return {
    open() {
      const database = shared ? openDatabase(dir) : join(dir, DATABASE_FILE);
      if (typeof database !== 'string') databases.push(database);
      const store = new SqliteTurnStore(database);
      stores.push(store);
      return Promise.resolve(store);
    },
    async dispose() {
      for (const store of stores) await store.close();
      for (const database of databases) database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function turn(thread: string, order: string): NewTurn {
  const sessionKey = `slack:T1:C1:${thread}`;
  return {
    turnId: `${sessionKey}:${order}`,
    order,
    message: {
      sessionKey,
      author: { id: 'U1', name: 'ana' },
      text: `message ${order}`,
      attachments: [{ name: 'data.csv', sizeBytes: 12, ref: `F-${order}` }],
    },
  };
}

/** Runs a thread's turns one by one (claim, complete), returning their orders. */
async function drain(store: TurnStore): Promise<Map<string, string[]>> {
  const seen = new Map<string, string[]>();
  for (let claimed = await store.claim('r', HOLD_MS); claimed;) {
    const key = claimed.turn.message.sessionKey;
    seen.set(key, [...(seen.get(key) ?? []), claimed.turn.order]);
    expect(await store.complete(claimed)).toBe(true);
    claimed = await store.claim('r', HOLD_MS);
  }
  return seen;
}

/** Claims until the previous holder's lease has run out (a bounded number of tries). */
async function claimAfterExpiry(
  store: TurnStore,
  runnerId: string,
  leaseMs = HOLD_MS,
): Promise<ClaimedTurn> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const claimed = await store.claim(runnerId, leaseMs);
    if (claimed) return claimed;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the lease never ran out');
}

/** A promise and whether it has settled yet: a wait must still be waiting before its cause. */
function watch(promise: Promise<void>): { promise: Promise<void>; ended: boolean } {
  const watched = { promise, ended: false };
  void promise.finally(() => (watched.ended = true));
  return watched;
}

const backends = [
  {
    name: 'redis',
    available: services.redisUrl !== undefined,
    make: (testName: string) => Promise.resolve(redisBackend(testName)),
  },
  { name: 'sqlite', available: true, make: () => sqliteBackend(false) },
  { name: 'sqlite on a shared database', available: true, make: () => sqliteBackend(true) },
];

describe.each(backends)('turn store contract: $name', ({ available, make }) => {
  const test = it.skipIf(!available);
  let backend: Backend;
  let store: TurnStore;

  beforeEach(async (context) => {
    if (!available) return;
    backend = await make(context.task.name);
    store = await backend.open();
  });

  afterEach(async () => {
    if (available) await backend.dispose();
  });

  test('runs a thread in platform order, whatever order its turns arrived in', async () => {
    const slack = ['1716.000200', '999', '1716', '1000', '1716.0002001', '12', '1716.00019'];
    const discord = ['1234567890123456789', '987654321098765432', '99999999999999999999'];
    for (const order of slack) expect(await store.enqueue(turn('s', order))).toBe(true);
    for (const order of discord) expect(await store.enqueue(turn('d', order))).toBe(true);
    const ran = await drain(store);
    expect(ran.get('slack:T1:C1:s')).toEqual([
      '12',
      '999',
      '1000',
      '1716',
      '1716.00019',
      '1716.000200',
      '1716.0002001',
    ]);
    expect(ran.get('slack:T1:C1:d')).toEqual([
      '987654321098765432',
      '1234567890123456789',
      '99999999999999999999',
    ]);
  });

  test('gives back the message as it was enqueued, to another process too', async () => {
    const sent = turn('a', '1716.000200');
    await store.enqueue(sent);
    await store.close();
    const claimed = await (await backend.open()).claim('r', HOLD_MS);
    expect(claimed?.turn).toMatchObject({ turnId: sent.turnId, order: sent.order });
    expect(claimed?.turn.message).toEqual(sent.message);
    expect(claimed?.resumed).toBe(false);
    expect(claimed?.turn.progress).toEqual({});
  });

  test('never leases one thread twice at once; different threads run side by side', async () => {
    const stores = [store, ...(await Promise.all([1, 2, 3, 4].map(() => backend.open())))];
    const threads = Array.from({ length: 8 }, (_, i) => `t${i}`);
    for (const thread of threads) {
      await store.enqueue(turn(thread, '2'));
      await store.enqueue(turn(thread, '1'));
    }
    const claimRound = async () => {
      const claims = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (stores[i % stores.length] ?? store).claim(`r${i}`, HOLD_MS),
        ),
      );
      return claims.filter((c): c is ClaimedTurn => c !== undefined);
    };
    const first = await claimRound();
    expect(first.map((c) => c.turn.message.sessionKey).sort()).toEqual(
      threads.map((t) => `slack:T1:C1:${t}`),
    );
    expect(first.every((c) => c.turn.order === '1')).toBe(true);
    expect(await claimRound()).toEqual([]);
    for (const claimed of first) expect(await store.complete(claimed)).toBe(true);
    const second = await claimRound();
    expect(second).toHaveLength(8);
    expect(second.every((c) => c.turn.order === '2')).toBe(true);
  });

  test('counts the turns waiting or running in a thread', async () => {
    await store.enqueue(turn('a', '1'));
    await store.enqueue(turn('a', '2'));
    expect(await store.pending('slack:T1:C1:a')).toBe(2);
    const running = await store.claim('r', HOLD_MS);
    if (!running) throw new Error('nothing claimed');
    await store.enqueue(turn('b', '1'));
    expect(await store.pending('slack:T1:C1:a')).toBe(2);
    expect(await store.pending('slack:T1:C1:b')).toBe(1);
    expect(await store.complete(running)).toBe(true);
    expect(await store.pending('slack:T1:C1:a')).toBe(1);
    await drain(store);
    expect(await store.pending('slack:T1:C1:a')).toBe(0);
    expect(await store.pending('slack:T1:C1:nobody')).toBe(0);
  });

  test('resumes a dead runner’s turn with the progress it recorded', async () => {
    await store.enqueue(turn('a', '1'));
    await store.enqueue(turn('a', '2'));
    const dead = await store.claim('dead', SHORT_LEASE_MS);
    if (!dead) throw new Error('nothing claimed');
    expect(await store.record(dead, { progressMessageId: 'P1' })).toBe(true);
    expect(await store.record(dead, { jobInFlight: 'job-7' })).toBe(true);
    expect(await store.record(dead, { answeringAt: 1716000000100 })).toBe(true);
    const other = await backend.open();
    const resumed = await claimAfterExpiry(other, 'alive');
    expect(resumed.resumed).toBe(true);
    expect(resumed.turn.turnId).toBe(dead.turn.turnId);
    expect(resumed.turn.progress).toEqual({
      progressMessageId: 'P1',
      jobInFlight: 'job-7',
      answeringAt: 1716000000100,
      resumes: 1,
    });
    // The runner that lost its lease can do nothing more to the turn.
    expect(await store.renew(dead, HOLD_MS)).toBe(false);
    expect(await store.record(dead, { answeredAt: 1 })).toBe(false);
    expect(await store.complete(dead)).toBe(false);
    expect(await other.record(resumed, { answeredAt: 1716000000123 })).toBe(true);
    expect(await other.complete(resumed)).toBe(true);
    const next = await store.claim('r', HOLD_MS);
    expect(next).toMatchObject({ resumed: false, turn: { order: '2', progress: {} } });
  });

  test('counts every resume', async () => {
    await store.enqueue(turn('a', '1'));
    expect((await store.claim('r0', SHORT_LEASE_MS))?.resumed).toBe(false);
    const second = await claimAfterExpiry(await backend.open(), 'r1', SHORT_LEASE_MS);
    expect(second.turn.progress.resumes).toBe(1);
    const third = await claimAfterExpiry(await backend.open(), 'r2');
    expect(third.resumed).toBe(true);
    expect(third.turn.progress.resumes).toBe(2);
  });

  test('a lease that ran out with nobody taking over is still its runner’s', async () => {
    await store.enqueue(turn('a', '1'));
    const claimed = await store.claim('slow', SHORT_LEASE_MS);
    if (!claimed) throw new Error('nothing claimed');
    await new Promise((resolve) => setTimeout(resolve, SHORT_LEASE_MS * 2));
    expect(await store.renew(claimed, HOLD_MS)).toBe(true);
    expect(await (await backend.open()).claim('other', HOLD_MS)).toBeUndefined();
    expect(await store.record(claimed, { answeredAt: 5 })).toBe(true);
    expect(await store.complete(claimed)).toBe(true);
  });

  test('a renewed lease keeps the thread from other runners', async () => {
    await store.enqueue(turn('a', '1'));
    const claimed = await store.claim('r', SHORT_LEASE_MS);
    if (!claimed) throw new Error('nothing claimed');
    expect(await store.renew(claimed, HOLD_MS)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, SHORT_LEASE_MS * 2));
    expect(await (await backend.open()).claim('other', HOLD_MS)).toBeUndefined();
  });

  test('drops a redelivered turn, even after the turn completed', async () => {
    const sent = turn('a', '1');
    expect(await store.enqueue(sent)).toBe(true);
    expect(await (await backend.open()).enqueue(sent)).toBe(false);
    expect(await store.pending(sent.message.sessionKey)).toBe(1);
    await drain(store);
    expect(await store.enqueue(sent)).toBe(false);
    expect(await store.pending(sent.message.sessionKey)).toBe(0);
    expect(await store.claim('r', HOLD_MS)).toBeUndefined();
  });

  test('refuses an order that is not a decimal number', async () => {
    await expect(store.enqueue(turn('a', '12a'))).rejects.toThrow(/decimal/);
    await expect(store.enqueue(turn('a', '-1'))).rejects.toThrow(/decimal/);
  });

  test('wakes a waiting runner when another process enqueues', { timeout: 20_000 }, async () => {
    expect(await store.claim('idle', HOLD_MS)).toBeUndefined();
    const woken = watch(store.waitForWork(NEVER_MS));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(woken.ended).toBe(false);
    await (await backend.open()).enqueue(turn('a', '1'));
    await woken.promise;
    expect(await store.claim('idle', HOLD_MS)).toBeDefined();
  });

  test('wakes a waiting runner when a turn completes', { timeout: 20_000 }, async () => {
    await store.enqueue(turn('a', '1'));
    await store.enqueue(turn('a', '2'));
    const running = await store.claim('busy', HOLD_MS);
    if (!running) throw new Error('nothing claimed');
    const waiter = await backend.open();
    expect(await waiter.claim('idle', HOLD_MS)).toBeUndefined();
    const woken = watch(waiter.waitForWork(NEVER_MS));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(woken.ended).toBe(false);
    expect(await store.complete(running)).toBe(true);
    await woken.promise;
    expect((await waiter.claim('idle', HOLD_MS))?.turn.order).toBe('2');
  });

  test('ends a wait when its signal aborts', { timeout: 20_000 }, async () => {
    expect(await store.claim('idle', HOLD_MS)).toBeUndefined();
    const stop = new AbortController();
    const woken = watch(store.waitForWork(NEVER_MS, stop.signal));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(woken.ended).toBe(false);
    stop.abort();
    await woken.promise;
    await store.waitForWork(NEVER_MS, stop.signal);
    expect(await store.claim('idle', HOLD_MS)).toBeUndefined();
  });
});

/**
 * A bot process of its own on the shared file: runs turns until its threads have none left,
 * printing one JSON line per turn it ran, with wall-clock times (one machine, one clock).
 */
const DRAINER = `
import { SqliteTurnStore } from ${JSON.stringify(new URL('../../src/conversation/sqlite-turn-store.ts', import.meta.url).href)};
const [path, ...threads] = process.argv.slice(1);
const store = new SqliteTurnStore(path);
for (;;) {
  const claimed = await store.claim(String(process.pid), 60_000);
  if (claimed) {
    const claimedAt = Date.now();
    await store.record(claimed, { jobInFlight: String(process.pid) });
    await new Promise((resolve) => setTimeout(resolve, 20)); // long enough for the processes to overlap
    if (!(await store.complete(claimed))) throw new Error('lease lost');
    const { turnId, order, message } = claimed.turn;
    const line = { turnId, order, thread: message.sessionKey, claimedAt, doneAt: Date.now() };
    console.log(JSON.stringify(line));
    continue;
  }
  let left = 0;
  for (const thread of threads) left += await store.pending(thread);
  if (left === 0) break;
  await store.waitForWork(1000);
}
await store.close();
`;

interface DrainedTurn {
  turnId: string;
  order: string;
  thread: string;
  claimedAt: number;
  doneAt: number;
}

describe('sqlite turn store shared by several processes', () => {
  it('runs every turn once, each thread in order, one turn at a time', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbot-turns-'));
    const path = join(dir, 'sandbot.db');
    const store = new SqliteTurnStore(path);
    try {
      const threads = Array.from({ length: 8 }, (_, i) => `p${i}`);
      for (const order of ['5', '3', '10', '1', '4']) {
        for (const thread of threads) await store.enqueue(turn(thread, order));
      }
      const keys = threads.map((t) => `slack:T1:C1:${t}`);
      const outputs = await Promise.all(
        [1, 2, 3].map(() =>
          run(process.execPath, ['--input-type=module', '-e', DRAINER, '--', path, ...keys], {
            timeout: 50_000,
          }),
        ),
      );
      const ran = outputs
        .flatMap(({ stdout }) => stdout.split('\n'))
        .filter((line) => line !== '') // a process may have found no turn left to take
        .map((line) => JSON.parse(line) as DrainedTurn);
      expect(ran).toHaveLength(40);
      expect(new Set(ran.map((t) => t.turnId)).size).toBe(40);
      for (const key of keys) {
        const thread = ran
          .filter((t) => t.thread === key)
          .sort((a, b) => a.claimedAt - b.claimedAt);
        expect(thread.map((t) => t.order)).toEqual(['1', '3', '4', '5', '10']);
        // Each turn of the thread was claimed only after the one before it completed.
        thread
          .slice(1)
          .forEach((t, i) => expect(t.claimedAt).toBeGreaterThanOrEqual(thread[i]?.doneAt ?? 0));
      }
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
