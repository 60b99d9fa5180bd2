import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { BlobStore } from '../../src/core/blob-store.ts';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import { RedisBlobStore } from '../../src/blobs/redis-blob-store.ts';
import { SqliteBlobStore } from '../../src/blobs/sqlite-blob-store.ts';
import { isSandbotError } from '../../src/core/errors.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { openDatabase } from '../../src/sqlite/open-database.ts';
import { removeDataDir, tempDataDir } from '../support/data-dir.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';

const services = inject('services');
const limits = { maxBlobBytes: 1024, ttlMs: 60_000 };

/** One contract, three stores: nothing else may notice which one is in use. */
function blobStoreContract(name: string, make: () => BlobStore) {
  describe(`${name} blob store`, () => {
    it('gives back the exact bytes and what it was stored as', async () => {
      const store = make();
      const content = Buffer.from([0, 1, 2, 255, 10, 13]);
      const ref = await store.put(content, { name: 'raw.bin', mime: 'application/octet-stream' });
      expect(ref).toMatchObject({
        name: 'raw.bin',
        sizeBytes: 6,
        mime: 'application/octet-stream',
      });
      const blob = await store.get(ref.id);
      expect(blob?.content.equals(content)).toBe(true);
      expect(blob?.ref).toEqual(ref);
    });

    it('refuses a blob over the size cap with a clear error', async () => {
      const error = await make()
        .put(Buffer.alloc(2048), { name: 'big.csv', mime: 'text/csv' })
        .catch((e: unknown) => e);
      expect(isSandbotError(error, 'BLOB_TOO_LARGE')).toBe(true);
      expect((error as Error).message).toMatch(/2\.0 KB, over the 1\.0 KB limit/);
    });

    it('answers undefined for an unknown or deleted id', async () => {
      const store = make();
      expect(await store.get('no-such-id')).toBeUndefined();
      const ref = await store.put(Buffer.from('x'), { name: 'x', mime: 'text/plain' });
      await store.delete(ref.id);
      expect(await store.get(ref.id)).toBeUndefined();
    });

    it('touching keeps blobs readable and ignores ids that are gone', async () => {
      const store = make();
      const ref = await store.put(Buffer.from('x'), { name: 'x', mime: 'text/plain' });
      await store.touch([ref.id, 'no-such-id'], 120_000);
      await store.touch([], 120_000);
      expect((await store.get(ref.id))?.content.toString()).toBe('x');
      expect(await store.get('no-such-id')).toBeUndefined();
    });
  });
}

blobStoreContract('memory', () => new MemoryBlobStore(limits));

describe('sqlite', () => {
  const dataDir = tempDataDir('blobs');
  const db = openDatabase(dataDir);
  afterAll(() => {
    db.close();
    removeDataDir(dataDir);
  });
  blobStoreContract('sqlite', () => new SqliteBlobStore(db, limits));

  it('forgets a blob after its TTL, lives on when touched, never cut short', async () => {
    let now = 1000;
    const store = new SqliteBlobStore(db, limits, () => now);
    const kept = await store.put(Buffer.from('k'), { name: 'k', mime: 'text/plain' });
    const other = await store.put(Buffer.from('o'), { name: 'o', mime: 'text/plain' });
    await store.touch([kept.id], 3_600_000);
    await store.touch([other.id], 10);
    now += 60_001;
    expect((await store.get(kept.id))?.content.toString()).toBe('k');
    expect(await store.get(other.id)).toBeUndefined();
    now += 3_600_000;
    expect(await store.get(kept.id)).toBeUndefined();
  });

  it('keeps the bytes for the next process that opens the file', async () => {
    const content = Buffer.from([0, 255, 1, 254]);
    const ref = await new SqliteBlobStore(db, limits).put(content, { name: 'b', mime: 'x/y' });
    const again = openDatabase(dataDir);
    try {
      const blob = await new SqliteBlobStore(again, limits).get(ref.id);
      expect(blob?.ref).toEqual(ref);
      expect(blob?.content.equals(content)).toBe(true);
    } finally {
      again.close();
    }
  });
});

describe.skipIf(services.redisUrl === undefined)('redis', () => {
  let redis: Redis;
  const prefix = `${uniquePrefix('blobs')}:`;
  beforeAll(async () => {
    redis = await connectRedis(services.redisUrl ?? '');
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });
  blobStoreContract('redis', () => new RedisBlobStore(redis, prefix, limits));

  it('sets a TTL on every blob', async () => {
    const store = new RedisBlobStore(redis, prefix, limits);
    const ref = await store.put(Buffer.from('x'), { name: 'x', mime: 'text/plain' });
    const ttl = await redis.pttl(`${prefix}blob:${ref.id}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('extends the TTL of a touched blob, never shortens it', async () => {
    const store = new RedisBlobStore(redis, prefix, limits);
    const ref = await store.put(Buffer.from('x'), { name: 'x', mime: 'text/plain' });
    await store.touch([ref.id], 3_600_000);
    expect(await redis.pttl(`${prefix}blob:${ref.id}`)).toBeGreaterThan(60_000);
    await store.touch([ref.id], 1000);
    expect(await redis.pttl(`${prefix}blob:${ref.id}`)).toBeGreaterThan(60_000);
  });
});

describe('memory blob store expiry', () => {
  it('forgets a blob after its TTL', async () => {
    let now = 1000;
    const store = new MemoryBlobStore(limits, () => now);
    const ref = await store.put(Buffer.from('x'), { name: 'x', mime: 'text/plain' });
    now += 60_001;
    expect(await store.get(ref.id)).toBeUndefined();
  });

  it('lives on when touched, and is never cut short by a touch', async () => {
    let now = 1000;
    const store = new MemoryBlobStore(limits, () => now);
    const kept = await store.put(Buffer.from('k'), { name: 'k', mime: 'text/plain' });
    const other = await store.put(Buffer.from('o'), { name: 'o', mime: 'text/plain' });
    await store.touch([kept.id], 3_600_000);
    await store.touch([other.id], 10);
    now += 60_001;
    expect((await store.get(kept.id))?.content.toString()).toBe('k');
    expect(await store.get(other.id)).toBeUndefined();
    now += 3_600_000;
    expect(await store.get(kept.id)).toBeUndefined();
  });
});
