import type { Redis } from '../redis/connection.ts';
import type { SessionState, SessionStore } from './session-store.ts';

/** Sessions as JSON in Redis, one key per thread, expiring after the session TTL. */
export class RedisSessionStore implements SessionStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly ttlMs: number;

  constructor(redis: Redis, prefix: string, ttlMs: number) {
    this.redis = redis;
    this.prefix = prefix;
    this.ttlMs = ttlMs;
  }

  private keyOf(key: string): string {
    return `${this.prefix}:thread:${key}`;
  }

  async load(key: string): Promise<SessionState | undefined> {
    const json = await this.redis.get(this.keyOf(key));
    return json === null ? undefined : (JSON.parse(json) as SessionState);
  }

  async save(state: SessionState): Promise<void> {
    await this.redis.set(this.keyOf(state.key), JSON.stringify(state), 'PX', this.ttlMs);
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.keyOf(key));
  }
}
