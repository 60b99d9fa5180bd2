import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.ts';

/**
 * Remembers platform event ids for a while so a redelivered event is handled once. With
 * Redis the memory is shared, so two bot processes behind one Slack app still agree.
 */
export interface DeliveryGuard {
  /** True the first time `id` is seen within the window, false for every repeat. */
  firstDelivery(id: string): Promise<boolean>;
}

/** Slack retries for about an hour at most; Discord resumes replay within minutes. */
export const DELIVERY_WINDOW_MS = 2 * 60 * 60_000;

export class MemoryDeliveryGuard implements DeliveryGuard {
  private readonly seen = new Map<string, number>();
  private readonly windowMs: number;

  constructor(windowMs = DELIVERY_WINDOW_MS) {
    this.windowMs = windowMs;
  }

  firstDelivery(id: string): Promise<boolean> {
    const now = Date.now();
    // Insertion order is expiry order, so pruning stops at the first live entry.
    for (const [key, expiresAt] of this.seen) {
      if (expiresAt > now) break;
      this.seen.delete(key);
    }
    if (this.seen.has(id)) return Promise.resolve(false);
    this.seen.set(id, now + this.windowMs);
    return Promise.resolve(true);
  }
}

export class RedisDeliveryGuard implements DeliveryGuard {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly windowMs: number;

  constructor(redis: Redis, prefix: string, windowMs = DELIVERY_WINDOW_MS) {
    this.redis = redis;
    this.prefix = prefix;
    this.windowMs = windowMs;
  }

  async firstDelivery(id: string): Promise<boolean> {
    const set = await this.redis.set(
      `${this.prefix}:delivery:${id}`,
      '1',
      'PX',
      this.windowMs,
      'NX',
    );
    return set === 'OK';
  }
}

/**
 * `guard.firstDelivery(id)`, failing open: when the guard's store (Redis) is down, answering
 * an event twice is better than never answering it.
 */
export async function isFirstDelivery(
  guard: DeliveryGuard,
  id: string,
  logger: Logger,
): Promise<boolean> {
  try {
    return await guard.firstDelivery(id);
  } catch (error) {
    logger.warn({ err: error }, 'delivery guard unavailable; handling the event anyway');
    return true;
  }
}
