import type { Redis } from '../redis/connection.ts';
import {
  parseCheckpointMeta,
  type CheckpointMeta,
  type CheckpointStore,
  type LoadedCheckpoint,
} from './checkpoint-store.ts';

/**
 * Keeps session ARGV[1]'s checkpoint (hash KEYS[1]: `meta` ARGV[2], `data` ARGV[3], for
 * ARGV[4] ms), records its age in the sorted set KEYS[2] (score ARGV[5]) and its size in the
 * hash KEYS[3], and drops the oldest other checkpoints while the sizes add up to more than
 * ARGV[6]. A checkpoint's hash is ARGV[7] .. session. Sizes live in their own hash, without a
 * TTL, so a checkpoint that expired by itself is still subtracted when its turn comes.
 * Returns the bytes counted after eviction.
 */
const SAVE_SCRIPT = `
local size = #ARGV[3]
redis.call('HSET', KEYS[1], 'meta', ARGV[2], 'data', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], size)
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[3])) do total = total + tonumber(v) end
local budget = tonumber(ARGV[6])
while total > budget do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not oldest or oldest == ARGV[1] then break end
  redis.call('ZREM', KEYS[2], oldest)
  total = total - tonumber(redis.call('HGET', KEYS[3], oldest) or '0')
  redis.call('HDEL', KEYS[3], oldest)
  redis.call('DEL', ARGV[7] .. oldest)
end
return total`;

/** Forgets session ARGV[1]'s checkpoint (hash KEYS[1]) and its entries in KEYS[2], KEYS[3]. */
const DROP_SCRIPT = `
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return redis.call('DEL', KEYS[1])`;

/**
 * Checkpoints in Redis, one hash per session beside the session's other keys, shared by every
 * worker of a deployment: a session that moves to another worker finds its checkpoint there.
 */
export class RedisCheckpointStore implements CheckpointStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly budgetBytes: number;

  constructor(redis: Redis, prefix: string, options: { ttlMs: number; budgetBytes: number }) {
    this.redis = redis;
    this.prefix = prefix;
    this.ttlMs = options.ttlMs;
    this.budgetBytes = options.budgetBytes;
  }

  async save(sessionId: string, content: Buffer, meta: CheckpointMeta): Promise<void> {
    await this.redis.eval(
      SAVE_SCRIPT,
      3,
      this.keyOf(sessionId),
      this.ageKey,
      this.sizesKey,
      sessionId,
      JSON.stringify(meta),
      content,
      Math.ceil(this.ttlMs),
      meta.savedAtMs,
      this.budgetBytes,
      this.keyOf(''),
    );
  }

  async describe(sessionId: string): Promise<CheckpointMeta | undefined> {
    return parseCheckpointMeta(await this.redis.hget(this.keyOf(sessionId), 'meta'));
  }

  async load(sessionId: string): Promise<LoadedCheckpoint | undefined> {
    const [meta, content] = await this.redis.hmgetBuffer(this.keyOf(sessionId), 'meta', 'data');
    const parsed = parseCheckpointMeta(meta?.toString('utf8'));
    if (parsed === undefined || content === null || content === undefined) return undefined;
    return { meta: parsed, content };
  }

  async drop(sessionId: string): Promise<boolean> {
    const removed = await this.redis.eval(
      DROP_SCRIPT,
      3,
      this.keyOf(sessionId),
      this.ageKey,
      this.sizesKey,
      sessionId,
    );
    return removed === 1;
  }

  private keyOf(sessionId: string): string {
    return `${this.prefix}:checkpoint:${sessionId}`;
  }

  private get ageKey(): string {
    return `${this.prefix}:checkpoints:by-age`;
  }

  private get sizesKey(): string {
    return `${this.prefix}:checkpoints:sizes`;
  }
}
