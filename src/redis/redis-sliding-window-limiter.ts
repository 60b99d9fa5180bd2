import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type {
  RateLimiter,
  RateLimiterFactory,
  RateLimitSpec,
  WindowDecision,
} from '../core/rate-limiter.ts';

/*
 * One sorted set per key: each counted event is a member scored by its time in microseconds.
 * Atomic, so concurrent takes from many processes never both squeeze into the last slot. The
 * time is the server's (TIME), not the caller's, so bot processes whose clocks disagree still
 * count one window. (Redis 5+ replicates a script's effects, so a write after TIME is allowed.)
 * KEYS[1]: the set. ARGV: limit, windowMs, a member unique to this take.
 * Returns {1, 0} when counted, {0, retryAfterMs} when refused (not counted).
 */
const TAKE_SCRIPT = `
local time = redis.call('TIME')
local nowUs = tonumber(time[1]) * 1000000 + tonumber(time[2])
local limit = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local windowUs = windowMs * 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowUs - windowUs)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local retryUs = tonumber(oldest[2]) + windowUs - nowUs
  return {0, math.max(1, math.ceil(retryUs / 1000))}
end
redis.call('ZADD', KEYS[1], nowUs, ARGV[3])
redis.call('PEXPIRE', KEYS[1], windowMs)
return {1, 0}`;

export interface RedisSlidingWindowOptions extends RateLimitSpec {
  /** The deployment's key prefix (REDIS_PREFIX); keys are `<prefix>:rate:<name>:<key>`. */
  readonly prefix: string;
}

/**
 * The sliding-window limit of SlidingWindowLimiter, kept in Redis so every bot process on
 * the same Redis and prefix draws from one budget. A key's set expires one window after its
 * newest event, so one-off keys (users) do not pile up.
 */
export class RedisSlidingWindowLimiter implements RateLimiter {
  private readonly redis: Redis;
  private readonly options: RedisSlidingWindowOptions;

  constructor(redis: Redis, options: RedisSlidingWindowOptions) {
    this.redis = redis;
    this.options = options;
  }

  async take(key: string): Promise<WindowDecision> {
    const { prefix, name, limit, windowMs } = this.options;
    // Two takes in the same microsecond must stay two members.
    const member = randomBytes(8).toString('hex');
    const reply = (await this.redis.eval(
      TAKE_SCRIPT,
      1,
      `${prefix}:rate:${name}:${key}`,
      limit,
      Math.ceil(windowMs),
      member,
    )) as [number, number];
    return reply[0] === 1 ? { allowed: true } : { allowed: false, retryAfterMs: reply[1] };
  }
}

/** Limiters shared through `redis` by every process using the same `prefix`. */
export function redisRateLimiters(redis: Redis, prefix: string): RateLimiterFactory {
  return (spec) => new RedisSlidingWindowLimiter(redis, { ...spec, prefix });
}
