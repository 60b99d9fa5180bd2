/**
 * One contract for the playground's stores (memory, the embedded SQLite file, Redis), through
 * the thread store the playground uses: nothing else may notice which one is in use. Redis is
 * also shared by replicas, so its suite runs two thread stores on two connections at once.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MemoryPlaygroundStore } from '../../adapters/web/memory-playground-store.ts';
import { RedisPlaygroundStore } from '../../adapters/web/redis-playground-store.ts';
import { SqlitePlaygroundStore } from '../../adapters/web/sqlite-playground-store.ts';
import { ThreadStore } from '../../adapters/web/thread-store.ts';
import type { PlaygroundStore } from '../../src/core/playground-store.ts';
import { textReply } from '../../src/core/reply.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { openDatabase } from '../../src/sqlite/open-database.ts';
import { removeDataDir, tempDataDir } from '../support/data-dir.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';

const services = inject('services');
const png = (bytes: number) => ({ name: 'p.png', mime: 'image/png', content: Buffer.alloc(bytes) });

/** `make` gives a new store over the same data each call (another replica, for Redis). */
function playgroundStoreContract(make: (budgetBytes?: number) => PlaygroundStore) {
  it('forgets the oldest files beyond the byte budget; their links go, messages stay', async () => {
    const store = new ThreadStore(make(250));
    const thread = await store.create();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { item: question } = await store.addUserMessage(thread.id, `plot ${i}`, []);
      const added = await store.addReply(thread.id, question.id, {
        ...textReply(`plot ${i}`),
        images: [png(100)],
      });
      if (added?.item.kind === 'bot') ids.push(added.item.images[0]?.id ?? '');
    }
    expect(await store.file(ids[0] ?? '')).toBeUndefined();
    expect((await store.file(ids[1] ?? ''))?.content.length).toBe(100);
    expect((await store.file(ids[2] ?? ''))?.content.length).toBe(100);
    expect((await store.get(thread.id))?.items).toHaveLength(6);
  });

  it('keeps an upload over the size limit as its size only, counting no bytes', async () => {
    const raw = make(150);
    const store = new ThreadStore(raw);
    const thread = await store.create();
    const kept = await store.addUpload(thread.id, {
      name: 'a.bin',
      mime: 'application/octet-stream',
      sizeBytes: 100,
      content: Buffer.alloc(100),
    });
    const big = await store.addUpload(thread.id, {
      name: 'huge.csv',
      mime: 'text/csv',
      sizeBytes: 10 ** 9,
      content: undefined,
    });
    expect((await raw.file(big.id))?.sizeBytes).toBe(10 ** 9);
    expect(await store.file(big.id)).toBeUndefined();
    expect((await store.file(kept.id))?.content.length).toBe(100);
    const taken = await store.takeUploads(thread.id, [big.id, kept.id]);
    expect(taken.map((t) => [t.ref.name, t.content?.length])).toEqual([
      ['huge.csv', undefined],
      ['a.bin', 100],
    ]);
  });

  it('hands a pending upload to the next message of its own thread only', async () => {
    const store = new ThreadStore(make());
    const a = await store.create();
    const b = await store.create();
    const upload = await store.addUpload(a.id, {
      name: 'd.csv',
      mime: 'text/csv',
      sizeBytes: 3,
      content: Buffer.from('1,2'),
    });
    expect(await store.takeUploads(b.id, [upload.id])).toEqual([]);
    expect(await store.takeUploads(a.id, [upload.id])).toHaveLength(1);
    expect(await store.takeUploads(a.id, [upload.id])).toEqual([]);
  });

  it('shows the live status until the answer, and never after it', async () => {
    const store = new ThreadStore(make());
    const thread = await store.create();
    const { item: question } = await store.addUserMessage(thread.id, 'slow one', []);
    expect(await store.setProgress(thread.id, question.id, 'running…')).toBe(true);
    expect((await store.get(thread.id))?.progress).toBe('running…');
    const added = await store.addReply(thread.id, question.id, textReply('done'));
    expect(added?.clearedProgress).toBe(true);
    expect(await store.setProgress(thread.id, question.id, 'late status')).toBe(false);
    const view = await store.get(thread.id);
    expect(view?.progress).toBeUndefined();
    expect(view?.pending).toBe(0);
  });

  it('answers a message once when two runners answer it at the same time', async () => {
    const first = new ThreadStore(make());
    const second = new ThreadStore(make());
    const thread = await first.create();
    const { item: question } = await first.addUserMessage(thread.id, 'hello', []);
    const results = await Promise.all([
      first.addReply(thread.id, question.id, textReply('one')),
      second.addReply(thread.id, question.id, textReply('two')),
    ]);
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    const view = await second.get(thread.id);
    expect(view?.items.filter((i) => i.kind === 'bot')).toHaveLength(1);
  });

  it('loses no message sent at the same time through two stores, each with its own order', async () => {
    const first = new ThreadStore(make());
    const second = new ThreadStore(make());
    const thread = await first.create();
    const sent = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 === 0 ? first : second).addUserMessage(thread.id, `message ${i}`, []),
      ),
    );
    const versions = sent.map((s) => s.thread.version);
    expect(new Set(versions).size).toBe(12);
    const view = await first.get(thread.id);
    expect(view?.items).toHaveLength(12);
    expect(view?.version).toBe(12);
    // The stored order of the messages is the order their versions give.
    const byVersion = [...sent].sort((a, b) => a.thread.version - b.thread.version);
    expect(view?.items.map((i) => i.id)).toEqual(byVersion.map((s) => s.item.id));
  });
}

describe('memory playground store', () => {
  // Memory is one process's: "another replica" is the same store (one per budget).
  const stores = new Map<number | undefined, MemoryPlaygroundStore>();
  playgroundStoreContract((budgetBytes) => {
    const store = stores.get(budgetBytes) ?? new MemoryPlaygroundStore(budgetBytes);
    stores.set(budgetBytes, store);
    return store;
  });
});

describe('sqlite playground store', () => {
  const dataDir = tempDataDir('playground-store');
  const db = openDatabase(dataDir);
  afterAll(() => {
    db.close();
    removeDataDir(dataDir);
  });
  // "Another replica" is another store on the same file, as a restarted process would be.
  playgroundStoreContract((budgetBytes) => new SqlitePlaygroundStore(db, budgetBytes));
});

describe.skipIf(services.redisUrl === undefined)('redis playground store', () => {
  const prefix = uniquePrefix('playground-store');
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
  // Each call is another replica: the other connection, the same keys.
  playgroundStoreContract((budgetBytes) => {
    const redis = connections[testIndex++ % 2];
    if (redis === undefined) throw new Error('not connected');
    return new RedisPlaygroundStore(redis, prefix, budgetBytes);
  });

  it('lists and reads a thread created through another replica', async () => {
    const [a, b] = connections;
    if (a === undefined || b === undefined) throw new Error('not connected');
    const replicaA = new ThreadStore(new RedisPlaygroundStore(a, prefix));
    const replicaB = new ThreadStore(new RedisPlaygroundStore(b, prefix));
    const thread = await replicaA.create();
    expect(replicaB.mayHold(thread.id)).toBe(true);
    const { item } = await replicaB.addUserMessage(thread.id, 'from b', []);
    await replicaA.setProgress(thread.id, item.id, 'working on it');
    expect((await replicaB.get(thread.id))?.progress).toBe('working on it');
    expect((await replicaA.list()).map((t) => t.id)).toContain(thread.id);
    expect(await replicaA.list()).toEqual(await replicaB.list());
  });
});
