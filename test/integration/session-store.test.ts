import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import { RedisBlobStore } from '../../src/blobs/redis-blob-store.ts';
import { SqliteBlobStore } from '../../src/blobs/sqlite-blob-store.ts';
import { cellImages } from '../../src/core/cell-result.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { MemorySessionStore } from '../../src/sessions/memory-session-store.ts';
import { RedisSessionStore } from '../../src/sessions/redis-session-store.ts';
import { SqliteSessionStore } from '../../src/sessions/sqlite-session-store.ts';
import { openDatabase, type DatabaseSync } from '../../src/sqlite/open-database.ts';
import {
  emptySession,
  type SessionState,
  type SessionStore,
} from '../../src/core/session-store.ts';
import { removeDataDir, tempDataDir } from '../support/data-dir.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';

const services = inject('services');

function sample(key: string): SessionState {
  return {
    ...emptySession(key),
    transcript: [
      { role: 'user', content: 'ana: plot it' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'python', arguments: '{"code":"1"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: '[status: ok]' },
    ],
    cells: [
      {
        code: '1',
        result: {
          status: 'ok',
          stdout: '',
          stderr: '',
          results: [{ kind: 'execute_result', data: { 'text/plain': '1' } }],
          files: [],
          notices: [],
          durationMs: 1,
          kernelRestarted: false,
        },
      },
    ],
    files: [
      {
        name: 'a.csv',
        origin: 'upload',
        blob: { id: 'b1', name: 'a.csv', sizeBytes: 3, mime: 'text/csv' },
      },
    ],
  };
}

function sessionStoreContract(name: string, make: () => SessionStore) {
  describe(`${name} session store`, () => {
    it('gives back what was saved', async () => {
      const store = make();
      const state = sample('slack:T1:C1:1.0');
      await store.save(state);
      expect(await store.load('slack:T1:C1:1.0')).toEqual(state);
    });

    it('knows nothing of an unknown or deleted thread', async () => {
      const store = make();
      expect(await store.load('web:local:x:none')).toBeUndefined();
      await store.save(sample('web:local:x:gone'));
      await store.delete('web:local:x:gone');
      expect(await store.load('web:local:x:gone')).toBeUndefined();
    });

    it('returns copies, not the stored object', async () => {
      const store = make();
      await store.save(sample('web:local:x:copy'));
      const loaded = await store.load('web:local:x:copy');
      (loaded?.transcript as unknown[]).push({ role: 'user', content: 'sneaky' });
      expect((await store.load('web:local:x:copy'))?.transcript).toHaveLength(3);
    });
  });
}

const blobLimits = { maxBlobBytes: 1024 * 1024, ttlMs: 60_000 };

sessionStoreContract(
  'memory',
  () => new MemorySessionStore(60_000, new MemoryBlobStore(blobLimits)),
);

describe('sqlite', () => {
  const dataDir = tempDataDir('sessions');
  const db = openDatabase(dataDir);
  afterAll(() => {
    db.close();
    removeDataDir(dataDir);
  });
  sessionStoreContract(
    'sqlite',
    () => new SqliteSessionStore(db, 60_000, new SqliteBlobStore(db, blobLimits)),
  );
});

describe('sqlite session store', () => {
  let dataDir: string;
  const opened: DatabaseSync[] = [];
  const open = () => {
    const db = openDatabase(dataDir);
    opened.push(db);
    return db;
  };
  beforeAll(() => {
    dataDir = tempDataDir('sessions-restart');
  });
  afterAll(() => {
    for (const db of opened) if (db.isOpen) db.close();
    removeDataDir(dataDir);
  });

  it('gives a restarted process what the previous one saved, blobs included', async () => {
    const before = open();
    const blobs = new SqliteBlobStore(before, blobLimits);
    const upload = await blobs.put(Buffer.from('m,r\n'), { name: 'a.csv', mime: 'text/csv' });
    const state = {
      ...sample('terminal:local:cli:restart'),
      files: [{ name: 'a.csv', origin: 'upload' as const, blob: upload }],
    };
    await new SqliteSessionStore(before, 60_000, blobs).save(state);
    before.close();

    const after = open();
    const blobsAfter = new SqliteBlobStore(after, blobLimits);
    const store = new SqliteSessionStore(after, 60_000, blobsAfter);
    expect(await store.load('terminal:local:cli:restart')).toEqual(state);
    expect((await blobsAfter.get(upload.id))?.content.toString()).toBe('m,r\n');
  });

  it('forgets a thread after the TTL, and keeps its blobs exactly as long', async () => {
    let now = 0;
    const clock = () => now;
    const db = open();
    const blobs = new SqliteBlobStore(db, { maxBlobBytes: 1024, ttlMs: 1000 }, clock);
    const store = new SqliteSessionStore(db, 60_000, blobs, clock);
    const upload = await blobs.put(Buffer.from('m,r\n'), { name: 'a.csv', mime: 'text/csv' });
    const unrelated = await blobs.put(Buffer.from('x'), { name: 'x', mime: 'text/plain' });
    await store.save({
      ...emptySession('web:local:x:blobs'),
      files: [{ name: 'a.csv', origin: 'upload', blob: upload }],
    });
    now = 59_000;
    expect(await store.load('web:local:x:blobs')).toBeDefined();
    expect((await blobs.get(upload.id))?.content.toString()).toBe('m,r\n');
    expect(await blobs.get(unrelated.id)).toBeUndefined();
    now = 60_001;
    expect(await store.load('web:local:x:blobs')).toBeUndefined();
    expect(await blobs.get(upload.id)).toBeUndefined();
  });

  it('sweeps expired sessions out of the file', async () => {
    let now = 0;
    const db = open();
    const store = new SqliteSessionStore(db, 1000, new SqliteBlobStore(db, blobLimits), () => now);
    await store.save(sample('web:local:x:swept'));
    now = 120_000;
    await store.save(sample('web:local:x:fresh'));
    const keys = db
      .prepare('SELECT key FROM sessions')
      .all()
      .map((row) => row['key']);
    expect(keys).not.toContain('web:local:x:swept');
    expect(keys).toContain('web:local:x:fresh');
  });

  it('reads a session stored in the old shape, its images moved to the blob store', async () => {
    const legacy = await readFile(
      new URL('../fixtures/legacy-session.json', import.meta.url),
      'utf8',
    );
    const key = (JSON.parse(legacy) as { key: string }).key;
    const db = open();
    db.prepare('INSERT OR REPLACE INTO sessions (key, state, expires_at) VALUES (?, ?, ?)').run(
      key,
      legacy,
      Date.now() + 60_000,
    );
    const blobs = new SqliteBlobStore(db, blobLimits);
    const store = new SqliteSessionStore(db, 60_000, blobs);
    const session = await store.load(key);
    const plot = session?.cells[0]?.result;
    expect(plot).toMatchObject({ status: 'ok', stdout: 'rows: 3\n' });
    const image = plot === undefined ? undefined : cellImages(plot)[0];
    expect((await blobs.get(image?.id ?? ''))?.content.subarray(1, 4).toString()).toBe('PNG');
    if (session !== undefined) await store.save(session);
    expect(await store.load(key)).toEqual(session);
  });
});

describe('memory session store expiry', () => {
  it('forgets a thread after the TTL', async () => {
    let now = 0;
    const store = new MemorySessionStore(1000, new MemoryBlobStore(blobLimits), () => now);
    await store.save(sample('web:local:x:ttl'));
    now = 1001;
    expect(await store.load('web:local:x:ttl')).toBeUndefined();
  });

  it("keeps the session's blobs as long as the session, even past their own TTL", async () => {
    let now = 0;
    const clock = () => now;
    const blobs = new MemoryBlobStore({ maxBlobBytes: 1024, ttlMs: 1000 }, clock);
    const store = new MemorySessionStore(60_000, blobs, clock);
    const upload = await blobs.put(Buffer.from('m,r\n'), { name: 'a.csv', mime: 'text/csv' });
    const unrelated = await blobs.put(Buffer.from('x'), { name: 'x', mime: 'text/plain' });
    await store.save({
      ...emptySession('web:local:x:blobs'),
      files: [{ name: 'a.csv', origin: 'upload', blob: upload }],
    });
    now = 59_000;
    expect(await store.load('web:local:x:blobs')).toBeDefined();
    expect((await blobs.get(upload.id))?.content.toString()).toBe('m,r\n');
    expect(await blobs.get(unrelated.id)).toBeUndefined();
    now = 60_001;
    expect(await store.load('web:local:x:blobs')).toBeUndefined();
    expect(await blobs.get(upload.id)).toBeUndefined();
  });
});

describe.skipIf(services.redisUrl === undefined)('redis', () => {
  let redis: Redis;
  const prefix = uniquePrefix('sessions');
  beforeAll(async () => {
    redis = await connectRedis(services.redisUrl ?? '');
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });
  const blobs = () => new RedisBlobStore(redis, `${prefix}:`, blobLimits);
  sessionStoreContract('redis', () => new RedisSessionStore(redis, prefix, 60_000, blobs()));

  it('sets the TTL on every save', async () => {
    await new RedisSessionStore(redis, prefix, 60_000, blobs()).save(sample('web:local:x:pttl'));
    const ttl = await redis.pttl(`${prefix}:thread:web:local:x:pttl`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it("keeps the session's blobs alive as long as the session", async () => {
    const shortLived = new RedisBlobStore(redis, `${prefix}:`, { ...blobLimits, ttlMs: 1000 });
    const store = new RedisSessionStore(redis, prefix, 3_600_000, shortLived);
    const upload = await shortLived.put(Buffer.from('a'), { name: 'a.csv', mime: 'text/csv' });
    const image = await shortLived.put(Buffer.from('png'), { name: 'p.png', mime: 'image/png' });
    const state = sample('web:local:x:blobttl');
    await store.save({
      ...state,
      files: [{ name: 'a.csv', origin: 'upload', blob: upload }],
      cells: [
        {
          code: 'plot()',
          result: {
            ...(state.cells[0]?.result ?? expect.fail('sample has a cell')),
            results: [{ kind: 'display_data', data: {}, image }],
          },
        },
      ],
    });
    const sessionTtl = await redis.pttl(`${prefix}:thread:web:local:x:blobttl`);
    for (const id of [upload.id, image.id]) {
      const blobTtl = await redis.pttl(`${prefix}:blob:${id}`);
      expect(blobTtl).toBeGreaterThanOrEqual(sessionTtl - 1000);
    }
    // Touching never shortens a life, and a blob that is gone stays gone.
    const longLived = await shortLived.put(Buffer.from('b'), { name: 'b', mime: 'text/plain' });
    await redis.pexpire(`${prefix}:blob:${longLived.id}`, 7_200_000);
    await shortLived.delete(upload.id);
    await shortLived.touch([longLived.id, upload.id], 1000);
    expect(await redis.pttl(`${prefix}:blob:${longLived.id}`)).toBeGreaterThan(3_600_000);
    expect(await redis.exists(`${prefix}:blob:${upload.id}`)).toBe(0);
  });

  it('reads a session stored in the old shape, its images moved to the blob store', async () => {
    const legacy = await readFile(
      new URL('../fixtures/legacy-session.json', import.meta.url),
      'utf8',
    );
    const key = (JSON.parse(legacy) as { key: string }).key;
    await redis.set(`${prefix}:thread:${key}`, legacy, 'PX', 60_000);
    const store = new RedisSessionStore(redis, prefix, 60_000, blobs());
    const session = await store.load(key);
    const plot = session?.cells[0]?.result;
    expect(plot).toMatchObject({ status: 'ok', stdout: 'rows: 3\n' });
    const image = plot === undefined ? undefined : cellImages(plot)[0];
    expect((await blobs().get(image?.id ?? ''))?.content.subarray(1, 4).toString()).toBe('PNG');
    // Saved again, it is stored in the new shape, without base64.
    if (session !== undefined) await store.save(session);
    const stored = (await redis.get(`${prefix}:thread:${key}`)) ?? '';
    expect(stored).not.toContain('"events"');
    expect(stored).not.toContain('iVBORw0KGgo');
    expect(await store.load(key)).toEqual(session);
  });
});
