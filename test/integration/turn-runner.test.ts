import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { NewTurn, TurnStore } from '../../src/core/turn-store.ts';
import { RedisTurnStore } from '../../src/conversation/redis-turn-store.ts';
import { SqliteTurnStore } from '../../src/conversation/sqlite-turn-store.ts';
import { TurnRunner, type TurnWork } from '../../src/conversation/turn-runner.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { eventually } from '../support/sandbot-process.ts';

const services = inject('services');
const logger = pino({ level: 'silent' });

/** Each `open()` is another bot process's view of the same turns. */
interface Backend {
  open(): Promise<TurnStore>;
  dispose(): Promise<void>;
}

function redisBackend(): Backend {
  const prefix = uniquePrefix('turn-runner');
  const connections: Redis[] = [];
  const stores: TurnStore[] = [];
  return {
    async open() {
      const redis = await connectRedis(services.redisUrl ?? '');
      connections.push(redis);
      const store = new RedisTurnStore(redis, prefix);
      stores.push(store);
      return store;
    },
    async dispose() {
      for (const store of stores) await store.close();
      if (connections[0] !== undefined) await deleteKeys(connections[0], prefix);
      for (const redis of connections) redis.disconnect();
    },
  };
}

async function sqliteBackend(): Promise<Backend> {
  const dir = await mkdtemp(join(tmpdir(), 'sandbot-runner-'));
  const stores: TurnStore[] = [];
  return {
    open() {
      const store = new SqliteTurnStore(join(dir, 'sandbot.db'));
      stores.push(store);
      return Promise.resolve(store);
    },
    async dispose() {
      for (const store of stores) await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function turn(thread: string, order: number): NewTurn {
  const sessionKey = `web:local:playground:${thread}`;
  return {
    turnId: `${sessionKey}:${order}`,
    order: String(order),
    message: { sessionKey, author: { id: 'u', name: 'u' }, text: `m${order}`, attachments: [] },
  };
}

const backends = [
  ['Redis', () => Promise.resolve(redisBackend())],
  ['SQLite', sqliteBackend],
] as const;

describe.skipIf(services.redisUrl === undefined).each(backends)('TurnRunner on %s', (_, make) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function runner(store: TurnStore, handler: (work: TurnWork) => Promise<void>, id = 'r1') {
    const running = new TurnRunner({ store, runnerId: id, handler, logger, leaseMs: 300 });
    running.start();
    cleanups.push(() => running.stop(0));
    return running;
  }

  it('runs turns one at a time per thread, in order, and threads side by side', async () => {
    const backend = await make();
    cleanups.push(() => backend.dispose());
    const store = await backend.open();
    const log: string[] = [];
    let inFlight = new Map<string, number>();
    let overlapInThread = false;
    let threadsAtOnce = 0;
    const release: (() => void)[] = [];
    runner(store, async ({ claimed }) => {
      const key = claimed.turn.message.sessionKey;
      inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
      if ((inFlight.get(key) ?? 0) > 1) overlapInThread = true;
      threadsAtOnce = Math.max(threadsAtOnce, inFlight.size);
      await new Promise<void>((resolve) => release.push(resolve));
      log.push(`${key.split(':').at(-1) ?? ''}:${claimed.turn.message.text}`);
      inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
      if (inFlight.get(key) === 0) inFlight.delete(key);
    });
    // Enqueued out of platform order: 3 before 1 and 2.
    for (const [thread, order] of [
      ['a', 3],
      ['b', 1],
      ['a', 1],
      ['a', 2],
      ['b', 2],
    ] as const) {
      await store.enqueue(turn(thread, order));
    }
    // Both threads get a turn running at once; release them until all five are done.
    await eventually(() => (release.length === 2 ? true : undefined), 'two threads running');
    while (log.length < 5) {
      const next = await eventually(() => release.shift(), 'a turn waiting');
      next();
      await eventually(() => (release.length > 0 || log.length === 5 ? true : undefined), 'next');
    }
    expect(log.filter((l) => l.startsWith('a:'))).toEqual(['a:m1', 'a:m2', 'a:m3']);
    expect(log.filter((l) => l.startsWith('b:'))).toEqual(['b:m1', 'b:m2']);
    expect(overlapInThread).toBe(false);
    expect(threadsAtOnce).toBe(2);
    inFlight = new Map();
    expect(await store.pending('web:local:playground:a')).toBe(0);
  });

  it('resumes, on another runner, a turn whose runner died, with the progress it recorded', async () => {
    const backend = await make();
    cleanups.push(() => backend.dispose());
    const first = await backend.open();
    const second = await backend.open();
    await first.enqueue(turn('c', 1));
    // The first "process" records its progress, then dies: it neither renews nor completes.
    const claimed = await first.claim('dead-runner', 300);
    expect(claimed).toBeDefined();
    if (claimed === undefined) return;
    await first.record(claimed, { progressMessageId: 'msg-1', jobInFlight: 'job-1' });

    const seen: TurnWork[] = [];
    runner(
      second,
      async (work) => {
        seen.push(work);
        await work.record({ answeredAt: 1 });
      },
      'r2',
    );
    await eventually(() => (seen.length === 1 ? true : undefined), 'the turn resumed');
    expect(seen[0]?.claimed).toMatchObject({
      resumed: true,
      turn: { progress: { progressMessageId: 'msg-1', jobInFlight: 'job-1', resumes: 1 } },
    });
    await eventually(
      async () => ((await second.pending('web:local:playground:c')) === 0 ? true : undefined),
      'completed',
    );
  });

  it('lets another runner take over a turn whose lease lapsed; the first one can no longer record or complete it', async () => {
    const backend = await make();
    cleanups.push(() => backend.dispose());
    const store = await backend.open();
    await store.enqueue(turn('d', 1));
    const claimed = await store.claim('slow-runner', 300);
    if (claimed === undefined) throw new Error('nothing to claim');
    // Its lease lapses (a long pause), another runner takes the turn over and completes it.
    const other = await backend.open();
    const done: string[] = [];
    runner(
      other,
      async (work) => {
        done.push(work.claimed.turn.turnId);
        await Promise.resolve();
      },
      'r3',
    );
    await eventually(() => (done.length === 1 ? true : undefined), 'taken over');
    // The slow runner finds out: its record and completion are refused.
    expect(await store.record(claimed, { answeredAt: 2 })).toBe(false);
    expect(await store.complete(claimed)).toBe(false);
  });
});
