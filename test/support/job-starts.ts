import type { JobEvent } from '../../src/core/job.ts';
import type { Redis } from '../../src/redis/connection.ts';

/**
 * How many times each code job under `prefix` started, by its event stream's key: the
 * fault tests' proof that no cell ran twice (a job that runs again starts again).
 */
export async function jobStarts(redis: Redis, prefix: string): Promise<Map<string, number>> {
  const streams: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:job:*:events`, 'COUNT', 1000);
    cursor = next;
    streams.push(...keys);
  } while (cursor !== '0');
  const starts = new Map<string, number>();
  for (const stream of streams) {
    const events = (await redis.xrange(stream, '-', '+')).map(
      ([, fields]) => JSON.parse(fields[1] ?? '{}') as JobEvent,
    );
    starts.set(stream, events.filter((e) => e.type === 'started').length);
  }
  return starts;
}
