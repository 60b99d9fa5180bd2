import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Redis } from '../../src/redis/connection.ts';
import { RedisSessionPackages } from '../../src/packages/redis-session-packages.ts';
import {
  MemorySessionPackages,
  type SessionPackage,
  type SessionPackages,
} from '../../src/packages/session-packages.ts';
import { SqliteSessionPackages } from '../../src/packages/sqlite-session-packages.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';

const services = inject('services');

const tiny: SessionPackage = {
  name: 'sbtiny',
  version: '1.0',
  fileName: 'sbtiny-1.0-py3-none-any.whl',
  blob: { id: 'b1', name: 'sbtiny-1.0-py3-none-any.whl', mime: 'application/zip', sizeBytes: 900 },
};
const dep: SessionPackage = {
  name: 'sbdep',
  version: '1.1',
  fileName: 'sbdep-1.1-py3-none-any.whl',
};

/** One contract for every store of a session's packages. */
function contract(name: string, open: () => SessionPackages) {
  describe(name, () => {
    it('remembers per session, by name (a later install replaces), and forgets on reset', async () => {
      const store = open();
      await store.remember('s:1', tiny);
      await store.remember('s:1', dep);
      await store.remember('s:1', { ...dep, version: '1.2' });
      await store.remember('s:2', tiny);
      const listed = (await store.list('s:1')).sort((a, b) => a.name.localeCompare(b.name));
      expect(listed).toEqual([{ ...dep, version: '1.2' }, tiny]);
      await store.forget('s:1');
      expect(await store.list('s:1')).toEqual([]);
      expect(await store.list('s:2')).toEqual([tiny]);
      expect(await store.list('s:unknown')).toEqual([]);
    });
  });
}

contract('in memory', () => new MemorySessionPackages());
contract(
  'SQLite (embedded)',
  () => new SqliteSessionPackages(new DatabaseSync(':memory:'), 60_000),
);

describe.skipIf(services.redisUrl === undefined)('Redis', () => {
  const prefix = uniquePrefix('packages-store');
  let redis: Redis;

  beforeAll(async () => {
    redis = await connectRedis(services.redisUrl ?? '');
  });

  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  contract('hash per session', () => new RedisSessionPackages(redis, prefix, 60_000));

  it('lives as long as the session and ignores an entry that is not one', async () => {
    const store = new RedisSessionPackages(redis, prefix, 60_000);
    await store.remember('s:ttl', tiny);
    const key = `${prefix}:session:s:ttl:packages`;
    expect(await redis.pttl(key)).toBeGreaterThan(0);
    await redis.hset(key, 'junk', '{"name": 1}');
    expect(await store.list('s:ttl')).toEqual([tiny]);
  });
});

describe('SQLite expiry', () => {
  it('reads nothing past the session lifetime', async () => {
    let now = 1_000;
    const store = new SqliteSessionPackages(new DatabaseSync(':memory:'), 500, () => now);
    await store.remember('s:old', tiny);
    now = 1_600;
    expect(await store.list('s:old')).toEqual([]);
  });
});
