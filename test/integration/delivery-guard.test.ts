import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DeliveryGuard } from '../../src/core/delivery-guard.ts';
import {
  MemoryDeliveryGuard,
  RedisDeliveryGuard,
} from '../../src/conversation/delivery-guard-stores.ts';
import { SqliteDeliveryGuard } from '../../src/conversation/sqlite-delivery-guard.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { openDatabase } from '../../src/sqlite/open-database.ts';
import { removeDataDir, tempDataDir } from '../support/data-dir.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';

const services = inject('services');

/**
 * One contract for every store of dedupe keys. A `shared` store is one several processes use
 * at once: `twin` is a second guard on the same store, as another process would hold.
 */
function deliveryGuardContract(
  name: string,
  make: () => { guard: DeliveryGuard; twin?: DeliveryGuard },
  shared: boolean,
) {
  describe(`${name} delivery guard`, () => {
    it('lets an event id through once, and every other id once', async () => {
      const { guard } = make();
      expect(await guard.firstDelivery('slack:Ev1')).toBe(true);
      expect(await guard.firstDelivery('slack:Ev1')).toBe(false);
      expect(await guard.firstDelivery('slack:Ev2')).toBe(true);
      expect(await guard.firstDelivery('slack:Ev1')).toBe(false);
    });

    it.runIf(shared)('drops a redelivery seen by another process sharing the store', async () => {
      const { guard, twin } = make();
      expect(await guard.firstDelivery('discord:42')).toBe(true);
      expect(await twin?.firstDelivery('discord:42')).toBe(false);
      expect(await twin?.firstDelivery('discord:43')).toBe(true);
      expect(await guard.firstDelivery('discord:43')).toBe(false);
    });
  });
}

deliveryGuardContract('memory', () => ({ guard: new MemoryDeliveryGuard(60_000) }), false);

describe('sqlite', () => {
  const dataDir = tempDataDir('deliveries');
  // Two connections to one file, as `npm start` and `sandbot chat` (or a restart) have.
  const first = openDatabase(dataDir);
  const second = openDatabase(dataDir);
  afterAll(() => {
    first.close();
    second.close();
    removeDataDir(dataDir);
  });
  deliveryGuardContract(
    'sqlite',
    () => {
      // A fresh id space per test: the file is shared by the whole suite.
      const scope = randomUUID();
      const scoped = (guard: DeliveryGuard): DeliveryGuard => ({
        firstDelivery: (id) => guard.firstDelivery(`${scope}:${id}`),
      });
      return {
        guard: scoped(new SqliteDeliveryGuard(first)),
        twin: scoped(new SqliteDeliveryGuard(second)),
      };
    },
    true,
  );

  it('lets an id through again once its window has passed, and sweeps it', async () => {
    let now = 0;
    const guard = new SqliteDeliveryGuard(first, 50, () => now);
    expect(await guard.firstDelivery('window:a')).toBe(true);
    now = 49;
    expect(await guard.firstDelivery('window:a')).toBe(false);
    now = 50;
    expect(await guard.firstDelivery('window:a')).toBe(true);
    now = 120_000;
    await guard.firstDelivery('window:b');
    const ids = first.prepare("SELECT id FROM deliveries WHERE id LIKE 'window:%'").all();
    expect(ids.map((row) => row['id'])).toEqual(['window:b']);
  });
});

describe.skipIf(services.redisUrl === undefined)('redis', () => {
  let redis: Redis;
  const prefix = uniquePrefix('deliveries');
  beforeAll(async () => {
    redis = await connectRedis(services.redisUrl ?? '');
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });
  deliveryGuardContract(
    'redis',
    () => {
      const scoped = `${prefix}:${randomUUID()}`;
      return {
        guard: new RedisDeliveryGuard(redis, scoped, 60_000),
        twin: new RedisDeliveryGuard(redis, scoped, 60_000),
      };
    },
    true,
  );
});
