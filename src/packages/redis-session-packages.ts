import type { Redis } from '../redis/connection.ts';
import {
  parseSessionPackage,
  type SessionPackage,
  type SessionPackages,
} from './session-packages.ts';

/** A session's packages as a Redis hash, name -> entry, living as long as the session. */
export class RedisSessionPackages implements SessionPackages {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly ttlMs: number;

  constructor(redis: Redis, prefix: string, ttlMs: number) {
    this.redis = redis;
    this.prefix = prefix;
    this.ttlMs = ttlMs;
  }

  private key(sessionId: string): string {
    return `${this.prefix}:session:${sessionId}:packages`;
  }

  async remember(sessionId: string, installed: SessionPackage): Promise<void> {
    const key = this.key(sessionId);
    await this.redis
      .multi()
      .hset(key, installed.name, JSON.stringify(installed))
      .pexpire(key, this.ttlMs)
      .exec();
  }

  async list(sessionId: string): Promise<SessionPackage[]> {
    const entries = await this.redis.hgetall(this.key(sessionId));
    return Object.values(entries).flatMap((json) => parseSessionPackage(json) ?? []);
  }

  async forget(sessionId: string): Promise<void> {
    await this.redis.del(this.key(sessionId));
  }
}
