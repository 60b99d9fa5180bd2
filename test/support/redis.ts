import { randomBytes } from 'node:crypto';
import { createRedis, type Redis } from '../../src/redis/connection.ts';

/** A key prefix (and queue name) no other test uses, so tests can share one Redis. */
export function uniquePrefix(testName: string): string {
  const slug = testName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 40);
  return `sandbot-test:${slug}:${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `prefix` (SCAN, never KEYS, so a shared Redis is not blocked). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

export async function connectRedis(url: string): Promise<Redis> {
  const redis = createRedis(url, { maxRetriesPerRequest: 1 });
  // Failed commands reject on their own; the event would only print noise.
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
}
