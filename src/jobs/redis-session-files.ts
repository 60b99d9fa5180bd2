import { z } from 'zod';
import type { BlobRef } from '../core/blob-store.ts';
import type { Redis } from '../redis/connection.ts';
import type { SessionFiles } from './job-executor.ts';
import type { RedisKeys } from './redis-keys.ts';

const blobRef = z.object({
  id: z.string(),
  name: z.string(),
  mime: z.string(),
  sizeBytes: z.number(),
});

/** A session's files as a Redis hash, name -> BlobRef, living as long as the session. */
export class RedisSessionFiles implements SessionFiles {
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  private readonly ttlMs: number;

  constructor(redis: Redis, keys: RedisKeys, ttlMs: number) {
    this.redis = redis;
    this.keys = keys;
    this.ttlMs = ttlMs;
  }

  async remember(sessionId: string, name: string, blob: BlobRef): Promise<void> {
    const key = this.keys.sessionFiles(sessionId);
    await this.redis.multi().hset(key, name, JSON.stringify(blob)).pexpire(key, this.ttlMs).exec();
  }

  async list(sessionId: string): Promise<BlobRef[]> {
    const entries = await this.redis.hgetall(this.keys.sessionFiles(sessionId));
    const refs: BlobRef[] = [];
    for (const json of Object.values(entries)) {
      const parsed = blobRef.safeParse(JSON.parse(json));
      if (parsed.success) refs.push(parsed.data);
    }
    return refs;
  }
}
