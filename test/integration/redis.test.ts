import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisDeliveryGuard } from '../../src/conversation/delivery-guard-stores.ts';
import { checkRedis } from '../../src/doctor/redis-check.ts';
import { readMaxmemoryPolicy, type Redis } from '../../src/redis/connection.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';

const services = inject('services');
const redisUrl = services.redisUrl;

describe.skipIf(redisUrl === undefined)('real Redis', () => {
  let redis: Redis;
  const prefix = uniquePrefix('redis smoke');

  beforeAll(async () => {
    redis = await connectRedis(redisUrl ?? '');
  });

  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('stores and reads under a key prefix no other test uses', async () => {
    await redis.set(`${prefix}:greeting`, 'hello', 'EX', 60);
    expect(await redis.get(`${prefix}:greeting`)).toBe('hello');
    expect(uniquePrefix('redis smoke')).not.toBe(prefix);
  });

  it('cleans up every key under the prefix', async () => {
    await redis.set(`${prefix}:a`, '1');
    await redis.set(`${prefix}:b`, '2');
    expect(await deleteKeys(redis, prefix)).toBeGreaterThanOrEqual(2);
    expect(await redis.exists(`${prefix}:a`, `${prefix}:b`)).toBe(0);
  });

  it('drops a redelivered platform event, across two bot processes sharing Redis', async () => {
    const first = new RedisDeliveryGuard(redis, prefix, 60_000);
    const second = new RedisDeliveryGuard(redis, prefix, 60_000);
    expect(await first.firstDelivery('slack:Ev123')).toBe(true);
    expect(await second.firstDelivery('slack:Ev123')).toBe(false);
    expect(await first.firstDelivery('slack:Ev123')).toBe(false);
    expect(await second.firstDelivery('slack:Ev124')).toBe(true);
  });

  it('reads the eviction policy the worker and doctor check', async () => {
    expect(await readMaxmemoryPolicy(redis)).toBe('noeviction');
  });

  it('passes the doctor check, and fails it with a fix for a wrong port', async () => {
    const good = await checkRedis(redisUrl ?? '');
    expect(good.slice(0, 2).map((r) => [r.name, r.status])).toEqual([
      ['Redis', 'ok'],
      ['Redis eviction policy', 'ok'],
    ]);
    expect(good.filter((r) => r.status === 'fail')).toEqual([]);
    const bad = await checkRedis('redis://127.0.0.1:1');
    expect(bad[0]?.status).toBe('fail');
    expect(bad[0]?.fix).toMatch(/redis-server/);
  });
});
