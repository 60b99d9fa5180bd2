import { SandbotError, errorMessage } from '../core/errors.ts';
import { createRedis } from './connection.ts';

/** What to do about a Redis that does not answer; shared by start-up refusals and doctor. */
export const REDIS_UNREACHABLE_FIX =
  'start Redis (apt-get install redis-server; redis-server --maxmemory-policy noeviction), fix REDIS_URL, or unset it to run everything in one process';

/** REDIS_URL as it may be printed: the password (and a user name's secret part) masked. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '****';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(REDIS_URL, not a URL)';
  }
}

/**
 * Checks once, before a command builds anything on Redis, that it answers. Without this an
 * ioredis client retries for ever in the background, and the command neither works nor exits.
 * Throws REDIS_UNAVAILABLE (exit 69) naming the address and the fix.
 */
export async function probeRedis(url: string, connectTimeoutMs = 3000): Promise<void> {
  const probe = createRedis(url, {
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // The connect rejects with a bare "Connection is closed."; the error event says why.
  let cause: Error | undefined;
  probe.on('error', (error: Error) => (cause ??= error));
  try {
    await probe.connect();
    await probe.ping();
  } catch (rejection) {
    const error = cause ?? rejection;
    throw new SandbotError(
      'REDIS_UNAVAILABLE',
      `Redis at ${redactRedisUrl(url)} is unreachable (${errorMessage(error) || 'no answer'}).\nFix: ${REDIS_UNREACHABLE_FIX}.`,
      { cause: error },
    );
  } finally {
    probe.disconnect();
  }
}
