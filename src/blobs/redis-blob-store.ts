import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Redis } from '../redis/connection.ts';
import type { Blob, BlobRef, BlobStore, BlobStoreLimits } from '../core/blob-store.ts';
import { tooLarge } from './memory-blob-store.ts';

const blobRef = z.object({
  id: z.string(),
  name: z.string(),
  mime: z.string(),
  sizeBytes: z.number().int().nonnegative(),
});

/**
 * Extends each key's TTL to ARGV[1] ms unless it already lives longer; a key that is gone
 * (PTTL -2) stays gone. A script rather than PEXPIRE GT, which needs Redis 7.
 */
const TOUCH_SCRIPT = `
for _, key in ipairs(KEYS) do
  local ttl = redis.call('PTTL', key)
  if ttl ~= -2 and ttl ~= -1 and ttl < tonumber(ARGV[1]) then
    redis.call('PEXPIRE', key, ARGV[1])
  end
end
return 0`;

/**
 * Blobs in Redis: one hash per blob (`meta` as JSON, `data` as raw bytes) with a TTL, so
 * a worker on another host can fetch what the bot stored, and nothing outlives its use.
 */
export class RedisBlobStore implements BlobStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly limits: BlobStoreLimits;

  constructor(redis: Redis, prefix: string, limits: BlobStoreLimits) {
    this.redis = redis;
    this.prefix = prefix;
    this.limits = limits;
  }

  private key(id: string): string {
    return `${this.prefix}blob:${id}`;
  }

  async put(content: Buffer, meta: { name: string; mime: string }): Promise<BlobRef> {
    if (content.length > this.limits.maxBlobBytes)
      throw tooLarge(content.length, this.limits.maxBlobBytes);
    const ref: BlobRef = {
      id: randomUUID(),
      name: meta.name,
      mime: meta.mime,
      sizeBytes: content.length,
    };
    const key = this.key(ref.id);
    await this.redis
      .multi()
      .hset(key, 'meta', JSON.stringify(ref), 'data', content)
      .pexpire(key, this.limits.ttlMs)
      .exec();
    return ref;
  }

  async get(id: string): Promise<Blob | undefined> {
    const [meta, data] = await this.redis.hmgetBuffer(this.key(id), 'meta', 'data');
    if (meta == null || data == null) return undefined;
    const parsed = blobRef.safeParse(JSON.parse(meta.toString('utf8')));
    if (!parsed.success) return undefined;
    return { ref: parsed.data, content: data };
  }

  async delete(id: string): Promise<void> {
    await this.redis.del(this.key(id));
  }

  async touch(ids: readonly string[], ttlMs: number): Promise<void> {
    if (ids.length === 0) return;
    const keys = ids.map((id) => this.key(id));
    await this.redis.eval(TOUCH_SCRIPT, keys.length, ...keys, Math.ceil(ttlMs));
  }
}
