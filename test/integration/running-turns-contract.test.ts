import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MemoryRunningTurns } from '../../src/core/memory-running-turns.ts';
import type { RunningTurns } from '../../src/core/running-turns.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { RedisRunningTurns } from '../../src/redis/redis-running-turns.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';

const services = inject('services');

/** Two views of one deployment: `here` runs turns, `there` is where a stop arrives. For the
 *  memory implementation both are the same process. */
interface Pair {
  readonly here: RunningTurns;
  readonly there: RunningTurns;
}

let threads = 0;
const thread = () => `test:w:c:t${(threads += 1).toString()}`;

/** Resolves when the registration hears a stop. */
function stopped(registration: { onStop(callback: () => void): void }): Promise<void> {
  return new Promise((resolve) => registration.onStop(resolve));
}

function runningTurnsContract(name: string, pair: () => Pair) {
  describe(`${name} running turns`, () => {
    it('answers false when nothing runs in the thread', async () => {
      expect(await pair().there.stop(thread())).toBe(false);
    });

    it('a stop sent anywhere reaches the running turn, and answers true', async () => {
      const { here, there } = pair();
      const key = thread();
      const turn = await here.started(key);
      const heard = stopped(turn);
      expect(await there.stop(key)).toBe(true);
      await heard;
      await turn.end();
    });

    it('once the turn has ended, a stop answers false', async () => {
      const { here, there } = pair();
      const key = thread();
      const turn = await here.started(key);
      await turn.end();
      await turn.end();
      expect(await there.stop(key)).toBe(false);
    });

    it('reaches only the thread it names, and each turn at most once', async () => {
      const { here, there } = pair();
      const [key, other, last] = [thread(), thread(), thread()];
      const turn = await here.started(key);
      let calls = 0;
      turn.onStop(() => (calls += 1));
      expect(await there.stop(other)).toBe(false);
      expect(await there.stop(key)).toBe(true);
      expect(await there.stop(key)).toBe(true);
      // Stops reach a process in the order they were sent: once the last is heard, so were these.
      const marker = await here.started(last);
      const heard = stopped(marker);
      expect(await there.stop(last)).toBe(true);
      await heard;
      expect(calls).toBe(1);
      await Promise.all([turn.end(), marker.end()]);
    });

    it('a callback added after the stop runs at once', async () => {
      const { here, there } = pair();
      const key = thread();
      const turn = await here.started(key);
      const heard = stopped(turn);
      expect(await there.stop(key)).toBe(true);
      await heard;
      let late = false;
      turn.onStop(() => (late = true));
      expect(late).toBe(true);
      await turn.end();
    });

    it('the next turn of a thread is not stopped by a stop of the one before', async () => {
      const { here, there } = pair();
      const key = thread();
      const first = await here.started(key);
      const heard = stopped(first);
      expect(await there.stop(key)).toBe(true);
      await heard;
      await first.end();
      const second = await here.started(key);
      let stoppedSecond = false;
      second.onStop(() => (stoppedSecond = true));
      expect(stoppedSecond).toBe(false);
      const secondHeard = stopped(second);
      expect(await there.stop(key)).toBe(true);
      await secondHeard;
      await second.end();
    });
  });
}

const memory = new MemoryRunningTurns();
runningTurnsContract('memory', () => ({ here: memory, there: memory }));

describe.skipIf(services.redisUrl === undefined)('redis', () => {
  const prefix = uniquePrefix('running-turns');
  const ttlMs = 300;
  let redis: Redis;
  const connections: Redis[] = [];
  let here: RedisRunningTurns;
  let there: RedisRunningTurns;
  beforeAll(async () => {
    redis = await connectRedis(services.redisUrl ?? '');
    // Two "processes": their own connections, their own ids.
    for (let i = 0; i < 2; i += 1) connections.push(await connectRedis(services.redisUrl ?? ''));
    here = new RedisRunningTurns(connections[0] ?? redis, { prefix, ttlMs });
    there = new RedisRunningTurns(connections[1] ?? redis, { prefix, ttlMs });
  });
  afterAll(async () => {
    await here.close();
    await there.close();
    for (const connection of connections) connection.disconnect();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  runningTurnsContract('redis', () => ({ here, there }));

  it('keeps an entry under the prefix with a TTL while the turn runs, renewed past it', async () => {
    const key = thread();
    const turn = await here.started(key);
    const ttl = await redis.pttl(`${prefix}:running-turn:${key}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(ttlMs);
    // Several TTLs go by: the running turn's entry is still there.
    await sleep(ttlMs * 4);
    expect(await redis.exists(`${prefix}:running-turn:${key}`)).toBe(1);
    expect(await there.stop(key)).toBe(true);
    await turn.end();
    expect(await redis.exists(`${prefix}:running-turn:${key}`)).toBe(0);
  });

  it("a dead process's turn answers false, and its entry expires by itself", async () => {
    const connection = await connectRedis(services.redisUrl ?? '');
    const dying = new RedisRunningTurns(connection, { prefix, ttlMs });
    const key = thread();
    await dying.started(key);
    // Killed: no end(), no renewals, nobody listening any more.
    await dying.close();
    connection.disconnect();
    expect(await redis.exists(`${prefix}:running-turn:${key}`)).toBe(1);
    expect(await there.stop(key)).toBe(false);
    while ((await redis.exists(`${prefix}:running-turn:${key}`)) === 1) await sleep(ttlMs / 3);
  });
});
