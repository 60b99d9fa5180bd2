import type { RateLimiter, RateLimiterFactory, WindowDecision } from './rate-limiter.ts';

export type { WindowDecision };

export interface SlidingWindowOptions {
  /** Most events a key may have in any window. */
  readonly limit: number;
  readonly windowMs: number;
  /** The clock, in milliseconds; injectable for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * At most `limit` events per key in any `windowMs` (a sliding window of timestamps, so a
 * burst at the edge of a fixed minute cannot double the rate). An event refused is not
 * counted. Keys whose window has emptied are swept once a window, so a crowd of one-off
 * keys (users) does not pile up. One process's memory: with REDIS_URL set the bot uses
 * RedisSlidingWindowLimiter instead, so replicas share one budget.
 */
export class SlidingWindowLimiter implements RateLimiter {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly recent = new Map<string, number[]>();
  private sweptAtMs: number;

  constructor(options: SlidingWindowOptions) {
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.now = options.now ?? Date.now;
    this.sweptAtMs = this.now();
  }

  /** Counts an event for `key` and allows it, or refuses it when the window is full. */
  take(key: string, nowMs: number = this.now()): Promise<WindowDecision> {
    return Promise.resolve(this.takeNow(key, nowMs));
  }

  private takeNow(key: string, nowMs: number): WindowDecision {
    this.sweep(nowMs);
    const times = this.inWindow(key, nowMs);
    if (times.length >= this.limit) {
      const oldestMs = times[0] ?? nowMs;
      return { allowed: false, retryAfterMs: this.windowMs - (nowMs - oldestMs) };
    }
    times.push(nowMs);
    this.recent.set(key, times);
    return { allowed: true };
  }

  /** The key's timestamps still inside the window, oldest first. */
  private inWindow(key: string, nowMs: number): number[] {
    const times = this.recent.get(key) ?? [];
    let expired = 0;
    while (expired < times.length && nowMs - (times[expired] ?? nowMs) >= this.windowMs) {
      expired += 1;
    }
    return expired === 0 ? times : times.slice(expired);
  }

  private sweep(nowMs: number): void {
    if (nowMs - this.sweptAtMs < this.windowMs) return;
    this.sweptAtMs = nowMs;
    for (const [key, times] of this.recent) {
      if (nowMs - (times.at(-1) ?? nowMs) >= this.windowMs) this.recent.delete(key);
    }
  }
}

/** Limiters in this process's memory: enough for one bot process (the embedded default). */
export function memoryRateLimiters(now?: () => number): RateLimiterFactory {
  return ({ limit, windowMs }) =>
    new SlidingWindowLimiter({ limit, windowMs, ...(now === undefined ? {} : { now }) });
}
