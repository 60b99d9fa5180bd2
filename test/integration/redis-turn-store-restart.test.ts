import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { NewTurn } from '../../src/core/turn-store.ts';
import { CLAIM } from '../../src/conversation/redis-turn-scripts.ts';
import { RedisTurnStore } from '../../src/conversation/redis-turn-store.ts';
import { TurnRunner } from '../../src/conversation/turn-runner.ts';
import { createRedis, type Redis } from '../../src/redis/connection.ts';
import { privateRedis, type PrivateRedis } from '../support/redis-server.ts';
import { eventually, guard } from '../support/sandbot-process.ts';

const services = inject('services');
/** Shorter than the restart below lasts: the lease's deadline passes while Redis is down. */
const LEASE_MS = 5000;
const PREFIX = 'restart';

function turn(thread: string, n: number): NewTurn {
  const sessionKey = `test:w:c:${thread}`;
  return {
    turnId: `${sessionKey}:${n}`,
    order: String(n),
    message: { sessionKey, author: { id: 'u', name: 'u' }, text: `m${n}`, attachments: [] },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** For failure messages: how long Redis had been up. */
const uptime = async (redis: Redis) => {
  const info = await redis.info('server');
  return /uptime_in_seconds:\d+/.exec(info)?.[0] ?? `no uptime in INFO: ${info.slice(0, 200)}`;
};

describe.skipIf(services.redisUrl === undefined)(
  'the Redis turn store across a Redis restart',
  () => {
    let server: PrivateRedis;
    const connections: Redis[] = [];
    /** A bot process's view: its connection waits for Redis, as the bot's does. */
    const open = async () => {
      // Reconnecting every 50 ms (not ioredis's growing backoff): a claim right after the
      // restart reaches Redis within its first second up, however long Redis was away.
      const redis = createRedis(server.url, {
        maxRetriesPerRequest: null,
        retryStrategy: () => 50,
      });
      redis.on('error', () => undefined);
      await redis.connect();
      connections.push(redis);
      return { redis, store: new RedisTurnStore(redis, PREFIX) };
    };
    /** SIGTERM (Redis persists), a pause longer than a lease, then the same port and data. */
    const restart = async (awayMs: number) => {
      await server.stop();
      await sleep(awayMs);
      await server.start();
    };

    beforeEach(async () => {
      server = await privateRedis(['--appendonly', 'yes', '--appendfsync', 'everysec']);
      await server.start();
    });

    afterEach(async () => {
      for (const redis of connections.splice(0)) redis.disconnect();
      await server.dispose();
    });

    it('leaves a running turn to its runner when its lease ran out while Redis was down', async () => {
      const a = await open();
      const b = await open();
      await a.store.enqueue(turn('t', 1));
      const claimed = await a.store.claim('a', LEASE_MS);
      expect(claimed?.turn.message.text).toBe('m1');
      await restart(LEASE_MS + 1000);
      // Redis has just started: the lapsed lease is no sign that its runner died.
      expect(await b.store.claim('b', LEASE_MS), await uptime(b.redis)).toBeUndefined();
      if (claimed === undefined) return;
      expect(await a.store.renew(claimed, LEASE_MS)).toBe(true);
      // Later, Redis up for longer than a lease: the runner that renews keeps its turn.
      for (let i = 0; i < 3; i += 1) {
        await sleep(LEASE_MS / 2);
        expect(await a.store.renew(claimed, LEASE_MS)).toBe(true);
      }
      expect(await b.store.claim('b', LEASE_MS)).toBeUndefined();
      expect(await a.store.complete(claimed)).toBe(true);
    });

    it('still resumes a dead runner’s turn once Redis has been up for a lease length', async () => {
      const a = await open();
      const b = await open();
      await a.store.enqueue(turn('t', 1));
      // Threads are ready in the order they were enqueued (by time, then by name): within one
      // millisecond 'fresh' would sort first, and `a` would take it instead of 't'.
      await sleep(5);
      await a.store.enqueue(turn('fresh', 1));
      expect((await a.store.claim('a', LEASE_MS))?.turn.message.sessionKey).toBe('test:w:c:t');
      await restart(LEASE_MS + 1000);
      // A turn nobody took yet is taken at once; the taken one waits for its runner to renew.
      const upBefore = await uptime(b.redis);
      const fresh = await b.store.claim('b', LEASE_MS);
      expect(fresh?.turn.message.sessionKey, `${upBefore} ${await uptime(b.redis)}`).toBe(
        'test:w:c:fresh',
      );
      expect(await b.store.claim('b', LEASE_MS)).toBeUndefined();
      const resumed = await eventually(
        () => b.store.claim('b', LEASE_MS),
        'the turn resumed',
        10_000,
      );
      expect(resumed.turn.message.sessionKey).toBe('test:w:c:t');
      expect(resumed.resumed).toBe(true);
    });

    it('answers a claim sent again after a lost reply with the same turn', async () => {
      const { redis, store } = await open();
      await store.enqueue(turn('t', 1));
      await store.enqueue(turn('u', 1));
      const claimOnce = () =>
        redis.eval(
          CLAIM,
          2,
          `${PREFIX}:turns:ready`,
          `${PREFIX}:turns:seq`,
          `${PREFIX}:turns:`,
          'a:1',
          LEASE_MS,
        );
      const first = (await claimOnce()) as [string, string, string[]];
      const again = (await claimOnce()) as [string, string, string[]];
      expect(again[1]).toBe(first[1]);
      expect(again[2]).toEqual(first[2]);
    });

    it('lets a runner stop, and a wait end, while Redis is away', async () => {
      const { store } = await open();
      const runner = new TurnRunner({
        store,
        runnerId: 'r',
        logger: pino({ level: 'silent' }),
        handler: () => Promise.resolve(),
        leaseMs: LEASE_MS,
      });
      runner.start();
      await sleep(200);
      await server.stop();
      try {
        await guard(store.waitForWork(300), 10_000, () => 'the wait did not end');
        await sleep(1500); // the runner's loop is now inside a claim that waits for Redis
        await guard(runner.stop(100), 10_000, () => 'the runner did not stop');
      } finally {
        await server.start();
      }
    });
  },
);
