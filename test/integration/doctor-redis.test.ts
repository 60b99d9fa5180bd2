import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkRedis } from '../../src/doctor/redis-check.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';

const redisUrl = inject('services').redisUrl;

describe.skipIf(redisUrl === undefined)('doctor on a real Redis', () => {
  let redis: Redis;
  const prefix = uniquePrefix('doctor');

  beforeAll(async () => {
    redis = await connectRedis(redisUrl ?? '');
  });

  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it("counts the deployment's live worker heartbeats, and warns when there are none", async () => {
    const workers = async () =>
      (await checkRedis(redisUrl ?? '', { prefix })).find((r) => r.name === 'workers');
    expect(await workers()).toMatchObject({
      status: 'warn',
      fix: expect.stringMatching(/sandbot worker/) as unknown,
    });
    await redis.set(`${prefix}:worker:w1:alive`, 'life', 'PX', 60_000);
    await redis.set(`${prefix}:worker:w2:alive`, 'life', 'PX', 60_000);
    await redis.set(`${prefix}-other:worker:w3:alive`, 'life', 'PX', 60_000);
    expect(await workers()).toMatchObject({ status: 'ok', detail: '2 live worker heartbeats' });
  });

  it('reports latency and memory', async () => {
    const results = await checkRedis(redisUrl ?? '', { prefix });
    expect(results.find((r) => r.name === 'Redis latency')?.detail).toMatch(/PING round trip/);
    expect(results.find((r) => r.name === 'Redis memory')?.detail).toMatch(/MB used/);
  });
});
