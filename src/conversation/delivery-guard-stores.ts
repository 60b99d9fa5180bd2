import type { Redis } from 'ioredis';
import { DELIVERY_WINDOW_MS, type DeliveryGuard } from '../core/delivery-guard.ts';

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
