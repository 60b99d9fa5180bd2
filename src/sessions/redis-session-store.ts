import type { BlobStore } from '../core/blob-store.ts';
import type { Redis } from '../redis/connection.ts';
import { upgradeSession } from './legacy-session.ts';
import { sessionBlobIds, type SessionState, type SessionStore } from '../core/session-store.ts';

/** Sessions as JSON in Redis, one key per thread, expiring after the session TTL. */
export class RedisSessionStore implements SessionStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly ttlMs: number;
  /** Where the session's images and files live; kept alive as long as the session. */
  private readonly blobs: Pick<BlobStore, 'put' | 'touch'>;

  constructor(
    redis: Redis,
    prefix: string,
    ttlMs: number,
    blobs: Pick<BlobStore, 'put' | 'touch'>,
  ) {
    this.redis = redis;
    this.prefix = prefix;
    this.ttlMs = ttlMs;
    this.blobs = blobs;
  }

  private keyOf(key: string): string {
    return `${this.prefix}:thread:${key}`;
  }

  async load(key: string): Promise<SessionState | undefined> {
    const json = await this.redis.get(this.keyOf(key));
    if (json === null) return undefined;
    return upgradeSession(JSON.parse(json) as SessionState, this.blobs);
  }

  async save(state: SessionState): Promise<void> {
    // Blobs first: a session is never stored naming a blob that expires before it.
    await this.blobs.touch(sessionBlobIds(state), this.ttlMs);
    await this.redis.set(this.keyOf(state.key), JSON.stringify(state), 'PX', this.ttlMs);
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.keyOf(key));
  }
}
