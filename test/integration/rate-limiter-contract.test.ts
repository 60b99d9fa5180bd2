import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RateLimiter, RateLimitSpec } from '../../src/core/rate-limiter.ts';
import { memoryRateLimiters } from '../../src/core/sliding-window-limiter.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { redisRateLimiters } from '../../src/redis/redis-sliding-window-limiter.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';

const services = inject('services');

/** Short windows, so the suite waits them out; what is asserted is counts, never durations. */
const WINDOW_MS = 300;

type MakeLimiter = (spec: RateLimitSpec) => RateLimiter;

function rateLimiterContract(name: string, make: () => MakeLimiter) {
  describe(`${name} rate limiter`, () => {
    it('allows `limit` takes in a window and refuses the next, saying when to retry', async () => {
      const limiter = make()({ name: 'limit', limit: 3, windowMs: WINDOW_MS });
      for (let i = 0; i < 3; i += 1) expect(await limiter.take('k')).toEqual({ allowed: true });
      const refused = await limiter.take('k');
      expect(refused.allowed).toBe(false);
      if (refused.allowed) return;
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(WINDOW_MS);
    });

    it('counts each key on its own', async () => {
      const limiter = make()({ name: 'keys', limit: 1, windowMs: 60_000 });
      expect(await limiter.take('ana')).toEqual({ allowed: true });
      expect((await limiter.take('ana')).allowed).toBe(false);
      expect(await limiter.take('bo')).toEqual({ allowed: true });
      expect((await limiter.take('bo')).allowed).toBe(false);
    });

    it('does not count a refused take', async () => {
      const limiter = make()({ name: 'refused', limit: 1, windowMs: WINDOW_MS });
      expect(await limiter.take('k')).toEqual({ allowed: true });
      let refused = await limiter.take('k');
      for (let i = 0; i < 5; i += 1) refused = await limiter.take('k');
      expect(refused.allowed).toBe(false);
      if (refused.allowed) return;
      // Had the refusals counted, the window would still be full after the first take left.
      await sleep(refused.retryAfterMs + 20);
      expect(await limiter.take('k')).toEqual({ allowed: true });
    });

    it('slides: the oldest take leaving the window frees one slot, not all', async () => {
      // A longer window here: the second take must still be inside it after the first left.
      const windowMs = 1000;
      const limiter = make()({ name: 'slide', limit: 2, windowMs });
      expect(await limiter.take('k')).toEqual({ allowed: true });
      await sleep(windowMs / 2);
      expect(await limiter.take('k')).toEqual({ allowed: true });
      const refused = await limiter.take('k');
      expect(refused.allowed).toBe(false);
      if (refused.allowed) return;
      expect(refused.retryAfterMs).toBeLessThanOrEqual(windowMs);
      await sleep(refused.retryAfterMs + 20);
      expect(await limiter.take('k')).toEqual({ allowed: true });
      const again = await limiter.take('k');
      expect(again.allowed).toBe(false);
      if (again.allowed) return;
      expect(again.retryAfterMs).toBeGreaterThan(0);
      expect(again.retryAfterMs).toBeLessThanOrEqual(windowMs);
    });
  });
}

rateLimiterContract('memory', () => memoryRateLimiters());

describe.skipIf(services.redisUrl === undefined)('redis', () => {
  const prefix = uniquePrefix('rate-limiter');
  let redis: Redis;
  let other: Redis;
  beforeAll(async () => {
    redis = await connectRedis(services.redisUrl ?? '');
    other = await connectRedis(services.redisUrl ?? '');
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    other.disconnect();
  });

  rateLimiterContract('redis', () => redisRateLimiters(redis, prefix));

  it('shares one budget between processes: five takes over two connections, then none', async () => {
    const spec = { name: 'shared', limit: 5, windowMs: 60_000 };
    const first = redisRateLimiters(redis, prefix)(spec);
    const second = redisRateLimiters(other, prefix)(spec);
    const takes = [first, second, first, second, first];
    for (const limiter of takes) expect(await limiter.take('workspace')).toEqual({ allowed: true });
    expect((await first.take('workspace')).allowed).toBe(false);
    expect((await second.take('workspace')).allowed).toBe(false);
  });

  it('keeps its keys under the prefix, expiring one window after the newest take', async () => {
    const limiter = redisRateLimiters(redis, prefix)({ name: 'ttl', limit: 2, windowMs: 60_000 });
    await limiter.take('ana');
    const ttlMs = await redis.pttl(`${prefix}:rate:ttl:ana`);
    expect(ttlMs).toBeGreaterThan(0);
    expect(ttlMs).toBeLessThanOrEqual(60_000);
  });
});
