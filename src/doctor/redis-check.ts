import { errorMessage } from '../core/errors.ts';
import { RedisKeys } from '../jobs/redis-keys.ts';
import { createRedis, readMaxmemoryPolicy, type Redis } from '../redis/connection.ts';
import { REDIS_UNREACHABLE_FIX, redactRedisUrl } from '../redis/probe-redis.ts';
import { fail, info, ok, warn, type CheckResult } from './check.ts';

/** Round trips timed for the latency figure; the median is reported. */
const PINGS = 5;
/** Above this a cell's events (one Redis round trip each) slow answers noticeably. */
const SLOW_PING_MS = 50;
/** Used memory over maxmemory above which doctor warns: noeviction refuses writes when full. */
const MEMORY_WARN_RATIO = 0.8;

/**
 * Redis as a deployment uses it: reachable, its eviction policy, latency, memory headroom,
 * and (given the deployment's key prefix) how many workers' heartbeats are live.
 */
export async function checkRedis(
  url: string,
  options: { readonly prefix?: string; readonly timeoutMs?: number } = {},
): Promise<CheckResult[]> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const redis = createRedis(url, {
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // The connect rejects with a bare "Connection is closed."; the error event says why.
  let cause: Error | undefined;
  redis.on('error', (error: Error) => (cause ??= error));
  // connectTimeout bounds the connect only; a server that accepts and then says nothing
  // (something else on that port) would hold a command for ever.
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('no answer in time')), timeoutMs);
  });
  try {
    return await Promise.race([inspect(redis, url, options.prefix), silent]);
  } catch (error) {
    const why = errorMessage(cause ?? error) || 'no answer';
    return [
      fail('Redis', `could not reach ${redactRedisUrl(url)} (${why})`, REDIS_UNREACHABLE_FIX),
    ];
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

/** Every Redis finding, on a client not yet connected. */
async function inspect(
  redis: Redis,
  url: string,
  prefix: string | undefined,
): Promise<CheckResult[]> {
  await redis.connect();
  const version = ((await redis.info('server')).match(/redis_version:(\S+)/) ?? [])[1] ?? '?';
  const results = [ok('Redis', `${redactRedisUrl(url)}, version ${version}`)];
  results.push(await checkPolicy(redis), await checkLatency(redis), await checkMemory(redis));
  if (prefix !== undefined) results.push(await checkWorkers(redis, prefix));
  return results;
}

async function checkPolicy(redis: Redis): Promise<CheckResult> {
  const policy = await readMaxmemoryPolicy(redis);
  if (policy === undefined) {
    return warn(
      'Redis eviction policy',
      'could not read maxmemory-policy (CONFIG is disabled)',
      'make sure the server runs with maxmemory-policy noeviction',
    );
  }
  if (policy !== 'noeviction') {
    return warn(
      'Redis eviction policy',
      `maxmemory-policy is ${policy}: queued jobs could be evicted`,
      'set maxmemory-policy noeviction (redis-server --maxmemory-policy noeviction)',
    );
  }
  return ok('Redis eviction policy', 'noeviction');
}

async function checkLatency(redis: Redis): Promise<CheckResult> {
  const timesMs: number[] = [];
  for (let i = 0; i < PINGS; i += 1) {
    const startMs = performance.now();
    await redis.ping();
    timesMs.push(performance.now() - startMs);
  }
  const medianMs = timesMs.sort((a, b) => a - b)[Math.floor(PINGS / 2)] ?? 0;
  const detail = `PING round trip ${medianMs.toFixed(1)} ms (median of ${PINGS})`;
  if (medianMs <= SLOW_PING_MS) return ok('Redis latency', detail);
  return warn(
    'Redis latency',
    `${detail}: every job event crosses it, so answers will lag`,
    'run Redis in the same region or network as the bot and workers',
  );
}

async function checkMemory(redis: Redis): Promise<CheckResult> {
  const memory = await redis.info('memory');
  const field = (name: string) =>
    Number((new RegExp(`^${name}:(\\d+)`, 'm').exec(memory) ?? [])[1] ?? 0);
  const usedMb = field('used_memory') / 1e6;
  const maxMb = field('maxmemory') / 1e6;
  if (maxMb === 0) {
    return info(
      'Redis memory',
      `${usedMb.toFixed(1)} MB used, no maxmemory limit (the host's memory)`,
    );
  }
  const detail = `${usedMb.toFixed(1)} MB used of ${maxMb.toFixed(0)} MB maxmemory`;
  if (usedMb / maxMb < MEMORY_WARN_RATIO) return ok('Redis memory', detail);
  return warn(
    'Redis memory',
    `${detail}: when it is full, noeviction refuses new jobs and sessions`,
    'raise maxmemory, or lower SESSION_IDLE_MINUTES so idle sessions leave Redis sooner',
  );
}

/** Workers keep `<prefix>:worker:<id>:alive` with a short TTL while they run. */
async function checkWorkers(redis: Redis, prefix: string): Promise<CheckResult> {
  const pattern = new RedisKeys(prefix.replace(/[*?[\]\\]/g, '\\$&')).heartbeat('*');
  const ids = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    for (const key of keys) ids.add(key);
  } while (cursor !== '0');
  if (ids.size === 0) {
    return warn(
      'workers',
      `no live worker heartbeat under prefix ${prefix}: cells will wait in the queue`,
      'start `sandbot worker` on a host with Docker (same REDIS_URL and REDIS_PREFIX)',
    );
  }
  return ok('workers', `${ids.size} live worker heartbeat${ids.size > 1 ? 's' : ''}`);
}
