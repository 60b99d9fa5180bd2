import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MeterStore } from '../../src/metering/meter-store.ts';
import { RedisMeterStore } from '../../src/metering/redis-meter-store.ts';
import { SqliteMeterStore } from '../../src/metering/sqlite-meter-store.ts';
import { NO_USAGE, type UsageTotals } from '../../src/metering/usage-totals.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { openDatabase, type DatabaseSync } from '../../src/sqlite/open-database.ts';
import { removeDataDir, tempDataDir } from '../support/data-dir.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';

const services = inject('services');

const turn = (overrides: Partial<UsageTotals>): UsageTotals => ({
  ...NO_USAGE,
  turns: 1,
  ...overrides,
});

function meterStoreContract(name: string, open: () => MeterStore) {
  describe(`${name} meter store`, () => {
    it('adds turns up in every entry, keeps the highest memory peak, and reads zeros for none', async () => {
      const store = open();
      const entries = [
        { scope: 'user:slack:U1', period: '2026-11-29' },
        { scope: 'thread:slack:T1:C1:1.1', period: 'total' },
      ];
      await store.add(
        entries,
        turn({
          promptTokens: 100,
          completionTokens: 10,
          cpuSeconds: 1.25,
          memoryPeakBytes: 500,
          cost: 0.001,
        }),
      );
      await store.add(
        entries,
        turn({ promptTokens: 50, cells: 2, cpuSeconds: 0.5, memoryPeakBytes: 300, bytesOut: 7 }),
      );
      for (const entry of entries) {
        const totals = await store.read(entry);
        expect(totals).toMatchObject({
          turns: 2,
          promptTokens: 150,
          completionTokens: 10,
          cells: 2,
          memoryPeakBytes: 500,
          bytesOut: 7,
        });
        expect(totals.cpuSeconds).toBeCloseTo(1.75, 9);
        expect(totals.cost).toBeCloseTo(0.001, 12);
      }
      expect(await store.read({ scope: 'user:slack:U1', period: '2026-11-30' })).toEqual(NO_USAGE);
      expect(await store.read({ scope: 'user:slack:U2', period: '2026-11-29' })).toEqual(NO_USAGE);
    });
  });
}

describe('sqlite', () => {
  let dir: string;
  let db: DatabaseSync;
  beforeAll(() => {
    dir = tempDataDir('meters');
    db = openDatabase(dir);
  });
  afterAll(() => {
    db.close();
    removeDataDir(dir);
  });
  meterStoreContract('sqlite', () => new SqliteMeterStore(db));
});

describe.skipIf(services.redisUrl === undefined)('redis', () => {
  const prefix = uniquePrefix('meters');
  let redis: Redis;
  beforeAll(async () => {
    redis = await connectRedis(services.redisUrl ?? '');
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });
  meterStoreContract('redis', () => new RedisMeterStore(redis, prefix));
});
