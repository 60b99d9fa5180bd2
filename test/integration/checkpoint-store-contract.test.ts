/**
 * One contract for the checkpoint stores (the embedded SQLite file, Redis): a session's
 * checkpoint comes back byte for byte to that session only, a newer one replaces it, `drop`
 * forgets it, the byte budget drops the oldest first, and a record that does not parse is no
 * checkpoint.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CheckpointMeta, CheckpointStore } from '../../src/checkpoints/checkpoint-store.ts';
import { RedisCheckpointStore } from '../../src/checkpoints/redis-checkpoint-store.ts';
import { SqliteCheckpointStore } from '../../src/checkpoints/sqlite-checkpoint-store.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { openDatabase } from '../../src/sqlite/open-database.ts';
import { removeDataDir, tempDataDir } from '../support/data-dir.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';

const services = inject('services');
const HOUR_MS = 3600_000;

function meta(savedAtMs: number, sizeBytes: number): CheckpointMeta {
  return {
    savedAtMs,
    sizeBytes,
    names: ['df', 'model'],
    modules: { pd: 'pandas', np: 'numpy' },
    notSaved: [{ name: 'conn', reason: 'socket' }],
  };
}

/** `make` gives a store over the same data with the given budget (another worker, for Redis). */
function checkpointStoreContract(make: (budgetBytes: number) => CheckpointStore) {
  const session = () => `s-${randomUUID()}`;

  it('gives a session its own checkpoint back, byte for byte, to that session only', async () => {
    const store = make(10_000_000);
    const [a, b] = [session(), session()];
    const bytes = randomBytes(4096);
    await store.save(a, bytes, meta(1000, bytes.length));
    const loaded = await make(10_000_000).load(a);
    expect(loaded?.content.equals(bytes)).toBe(true);
    expect(loaded?.meta).toEqual(meta(1000, bytes.length));
    expect(await store.describe(a)).toEqual(meta(1000, bytes.length));
    expect(await store.load(b)).toBeUndefined();
    expect(await store.describe(b)).toBeUndefined();
  });

  it('replaces a session checkpoint with its newer one, and forgets it on drop', async () => {
    const store = make(10_000_000);
    const id = session();
    await store.save(id, Buffer.from('old'), meta(1000, 3));
    await store.save(id, Buffer.from('newer'), meta(2000, 5));
    expect((await store.load(id))?.content.toString()).toBe('newer');
    expect(await store.drop(id)).toBe(true);
    expect(await store.load(id)).toBeUndefined();
    expect(await store.drop(id)).toBe(false);
  });

  it('drops the oldest checkpoints, never the new one, when the budget is exceeded', async () => {
    // A budget of its own: prefixes (Redis) and files (SQLite) are per suite, so other tests'
    // checkpoints count too; make them all small next to these.
    const store = make(2500);
    const ids = [session(), session(), session()];
    const base = Date.now();
    for (const [i, id] of ids.entries()) {
      await store.save(id, Buffer.alloc(1000, i), meta(base + i, 1000));
    }
    expect(await store.load(ids[0] ?? '')).toBeUndefined();
    expect((await store.load(ids[1] ?? ''))?.content.length).toBe(1000);
    expect((await store.load(ids[2] ?? ''))?.content.length).toBe(1000);
    // One alone over the budget is still kept: the budget is for the others' sake.
    const big = session();
    await store.save(big, Buffer.alloc(4000), meta(base + 10, 4000));
    expect((await store.load(big))?.content.length).toBe(4000);
    expect(await store.load(ids[2] ?? '')).toBeUndefined();
  });
}

describe('sqlite checkpoint store', () => {
  const dataDir = tempDataDir('checkpoint-store');
  const db = openDatabase(dataDir);
  afterAll(() => {
    db.close();
    removeDataDir(dataDir);
  });
  checkpointStoreContract(
    (budgetBytes) => new SqliteCheckpointStore(db, { ttlMs: HOUR_MS, budgetBytes }),
  );

  it('counts an expired checkpoint as gone', async () => {
    let now = 1_000_000;
    const store = new SqliteCheckpointStore(db, { ttlMs: 1000, budgetBytes: 10_000 }, () => now);
    await store.save('expiring', Buffer.from('x'), meta(now, 1));
    now += 1001;
    expect(await store.load('expiring')).toBeUndefined();
  });
});

describe.skipIf(services.redisUrl === undefined)('redis checkpoint store', () => {
  const prefix = uniquePrefix('checkpoint-store');
  const connections: Redis[] = [];
  let testIndex = 0;
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) connections.push(await connectRedis(services.redisUrl ?? ''));
  });
  afterAll(async () => {
    const [redis] = connections;
    if (redis !== undefined) await deleteKeys(redis, prefix);
    for (const redis of connections) redis.disconnect();
  });
  checkpointStoreContract((budgetBytes) => {
    const redis = connections[testIndex++ % 2];
    if (redis === undefined) throw new Error('not connected');
    return new RedisCheckpointStore(redis, prefix, { ttlMs: HOUR_MS, budgetBytes });
  });

  it('subtracts a checkpoint that expired by itself when the budget evicts it', async () => {
    const [redis] = connections;
    if (redis === undefined) throw new Error('not connected');
    const store = new RedisCheckpointStore(redis, `${prefix}-expiry`, {
      ttlMs: 50,
      budgetBytes: 1500,
    });
    await store.save('gone-soon', Buffer.alloc(1000), meta(1, 1000));
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await store.load('gone-soon')).toBeUndefined();
    const long = new RedisCheckpointStore(redis, `${prefix}-expiry`, {
      ttlMs: HOUR_MS,
      budgetBytes: 1500,
    });
    await long.save('a', Buffer.alloc(1000), meta(2, 1000));
    await long.save('b', Buffer.alloc(400), meta(3, 400));
    // 'gone-soon' was evicted by count (its 1000 bytes subtracted), so 'a' and 'b' both fit.
    expect((await long.load('a'))?.content.length).toBe(1000);
    expect((await long.load('b'))?.content.length).toBe(400);
    await deleteKeys(redis, `${prefix}-expiry`);
  });
});
