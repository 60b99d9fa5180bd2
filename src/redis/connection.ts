import { Redis } from 'ioredis';

export type { Redis };

/** The connection options sandbot sets; a narrow subset of ioredis's RedisOptions. */
export interface RedisConnectionOptions {
  readonly connectTimeout?: number;
  /** BullMQ requires `null` on its own connections: it retries blocking commands itself. */
  readonly maxRetriesPerRequest?: number | null;
  readonly retryStrategy?: (times: number) => number | null;
}

export function createRedis(url: string, options: RedisConnectionOptions = {}): Redis {
  return new Redis(url, {
    lazyConnect: true,
    ...(options.connectTimeout === undefined ? {} : { connectTimeout: options.connectTimeout }),
    ...(options.maxRetriesPerRequest === undefined
      ? {}
      : { maxRetriesPerRequest: options.maxRetriesPerRequest }),
    ...(options.retryStrategy === undefined ? {} : { retryStrategy: options.retryStrategy }),
  });
}

/**
 * The server's eviction policy, or undefined when CONFIG is not allowed (managed Redis
 * services often disable it). Anything but `noeviction` may silently drop queue keys.
 */
export async function readMaxmemoryPolicy(redis: Redis): Promise<string | undefined> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as unknown;
    if (Array.isArray(reply) && typeof reply[1] === 'string') return reply[1];
    return undefined;
  } catch {
    return undefined;
  }
}
