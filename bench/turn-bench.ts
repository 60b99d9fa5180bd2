import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { KeyedSerializer } from '../src/core/keyed-serializer.ts';
import type { NewTurn, TurnStore } from '../src/core/turn-store.ts';
import { RedisTurnStore } from '../src/conversation/redis-turn-store.ts';
import { SqliteTurnStore } from '../src/conversation/sqlite-turn-store.ts';
import { TurnRunner } from '../src/conversation/turn-runner.ts';
import { createRedis, type Redis } from '../src/redis/connection.ts';
import { percentile, round } from './stats.ts';

export interface TurnFigures {
  /** In-process hand-off the durable queue replaces: a turn queued to its start. */
  inprocess_turn_handoff_p50_ms: number;
  turn_enqueue_to_start_redis_p50_ms: number;
  turn_enqueue_to_start_sqlite_p50_ms: number;
  /** What the durable queue adds over the in-process hand-off, at p50. */
  turn_redis_added_p50_ms: number;
  turn_sqlite_added_p50_ms: number;
  /** Turn-store throughput: two runners (two connections) on one Redis, trivial turns. */
  turn_store_turns_per_s: number;
}

const SAMPLES = 200;
const logger = pino({ level: 'silent' });

function turn(i: number): NewTurn {
  const sessionKey = `bench:w:c:t${i % 10}`;
  return {
    turnId: `${sessionKey}:${i}`,
    order: String(i),
    message: { sessionKey, author: { id: 'u', name: 'u' }, text: 'hi', attachments: [] },
  };
}

async function inProcessHandoff(): Promise<number[]> {
  const serializer = new KeyedSerializer();
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    const queuedAt = performance.now();
    await serializer.run(`t${i % 10}`, () => {
      samples.push(performance.now() - queuedAt);
      return Promise.resolve();
    });
  }
  return samples;
}

/** One turn at a time: enqueue, and time until the runner's handler starts it. */
async function enqueueToStart(store: TurnStore): Promise<number[]> {
  const samples: number[] = [];
  let started: (() => void) | undefined;
  const runner = new TurnRunner({
    store,
    runnerId: 'bench',
    logger,
    handler: () => {
      started?.();
      return Promise.resolve();
    },
  });
  runner.start();
  for (let i = 0; i < SAMPLES; i += 1) {
    const began = new Promise<void>((resolve) => (started = resolve));
    const queuedAt = performance.now();
    await store.enqueue(turn(i));
    await began;
    samples.push(performance.now() - queuedAt);
  }
  await runner.stop(1000);
  return samples;
}

async function throughput(first: TurnStore, second: TurnStore): Promise<number> {
  const total = 400;
  let done = 0;
  let finished: (() => void) | undefined;
  const all = new Promise<void>((resolve) => (finished = resolve));
  const handler = () => {
    done += 1;
    if (done === total) finished?.();
    return Promise.resolve();
  };
  const runners = [first, second].map(
    (store, i) => new TurnRunner({ store, runnerId: `r${i}`, logger, handler }),
  );
  const began = performance.now();
  for (let i = 0; i < total; i += 1) await first.enqueue(turn(SAMPLES + i));
  for (const runner of runners) runner.start();
  await all;
  const seconds = (performance.now() - began) / 1000;
  await Promise.all(runners.map((runner) => runner.stop(1000)));
  return total / seconds;
}

export async function benchTurns(
  redisUrl: string,
  log: (line: string) => void,
): Promise<TurnFigures> {
  const prefix = `sandbot-bench-turns-${process.pid}`;
  const connections: Redis[] = [];
  const connect = async () => {
    const redis = createRedis(redisUrl);
    await redis.connect();
    connections.push(redis);
    return redis;
  };
  const dir = await mkdtemp(join(tmpdir(), 'sandbot-bench-turns-'));
  try {
    log('turns: in-process hand-off, then the durable queue on Redis and on SQLite');
    const anchor = percentile(await inProcessHandoff(), 50);
    const redisStore = new RedisTurnStore(await connect(), `${prefix}:a`);
    const redisP50 = percentile(await enqueueToStart(redisStore), 50);
    await redisStore.close();
    const sqliteStore = new SqliteTurnStore(join(dir, 'sandbot.db'));
    const sqliteP50 = percentile(await enqueueToStart(sqliteStore), 50);
    await sqliteStore.close();
    log('turns: two runners sharing one Redis');
    const stores = [
      new RedisTurnStore(await connect(), `${prefix}:b`),
      new RedisTurnStore(await connect(), `${prefix}:b`),
    ] as const;
    const perSecond = await throughput(stores[0], stores[1]);
    for (const store of stores) await store.close();
    return {
      inprocess_turn_handoff_p50_ms: anchor,
      turn_enqueue_to_start_redis_p50_ms: redisP50,
      turn_enqueue_to_start_sqlite_p50_ms: sqliteP50,
      turn_redis_added_p50_ms: round(redisP50 - anchor),
      turn_sqlite_added_p50_ms: round(sqliteP50 - anchor),
      turn_store_turns_per_s: round(perSecond, 1),
    };
  } finally {
    const redis = connections[0];
    if (redis !== undefined) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    }
    for (const connection of connections) connection.disconnect();
    await rm(dir, { recursive: true, force: true });
  }
}
