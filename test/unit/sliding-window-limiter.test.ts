import { describe, expect, it } from 'vitest';
import { SlidingWindowLimiter } from '../../src/core/sliding-window-limiter.ts';

describe('a sliding-window limiter', () => {
  it('allows `limit` events per key in any window and says when the next one may go', async () => {
    let nowMs = 0;
    const limiter = new SlidingWindowLimiter({ limit: 2, windowMs: 60_000, now: () => nowMs });
    expect(await limiter.take('a')).toEqual({ allowed: true });
    nowMs = 10_000;
    expect(await limiter.take('a')).toEqual({ allowed: true });
    nowMs = 20_000;
    expect(await limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 40_000 });
    expect(await limiter.take('b')).toEqual({ allowed: true });
    nowMs = 60_000; // the first event leaves the window exactly one window later
    expect(await limiter.take('a')).toEqual({ allowed: true });
    expect(await limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 10_000 });
  });

  it('does not count a refused event', async () => {
    const limiter = new SlidingWindowLimiter({ limit: 1, windowMs: 1000 });
    expect((await limiter.take('k', 0)).allowed).toBe(true);
    for (let t = 100; t < 1000; t += 100) expect((await limiter.take('k', t)).allowed).toBe(false);
    expect((await limiter.take('k', 1000)).allowed).toBe(true);
  });

  it('forgets keys that went quiet, and counts them afresh when they come back', async () => {
    let nowMs = 0;
    const limiter = new SlidingWindowLimiter({ limit: 1, windowMs: 1000, now: () => nowMs });
    for (let user = 0; user < 100; user += 1) await limiter.take(`user-${user}`);
    nowMs = 5000;
    expect((await limiter.take('someone else')).allowed).toBe(true);
    expect(await limiter.take('user-1')).toEqual({ allowed: true });
    expect(await limiter.take('user-1')).toEqual({ allowed: false, retryAfterMs: 1000 });
  });
});
