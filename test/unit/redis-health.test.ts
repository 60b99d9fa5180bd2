import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { redactRedisUrl } from '../../src/redis/probe-redis.ts';
import { RedisHealth } from '../../src/redis/redis-health.ts';

/** Records what would be logged. */
function recordingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_fields: object, msg: string) => lines.push({ level, msg });
  const logger = { warn: at('warn'), info: at('info'), debug: at('debug') };
  // RedisHealth only calls warn and info; the rest of pino's surface is not needed.
  return {
    lines,
    logger: logger as unknown as ConstructorParameters<typeof RedisHealth>[0]['logger'],
  };
}

/** Stands in for an ioredis connection at the one seam RedisHealth uses: its events. */
function connection(): EventEmitter {
  return new EventEmitter();
}

describe('RedisHealth', () => {
  it('is down from the first error until the connection is ready again', () => {
    const { logger } = recordingLogger();
    const health = new RedisHealth({ logger });
    const redis = connection();
    health.watch(redis, 'main');
    expect(health.ok).toBe(true);
    redis.emit('error', new Error('connect ECONNREFUSED'));
    expect(health.ok).toBe(false);
    redis.emit('reconnecting');
    expect(health.ok).toBe(false);
    redis.emit('ready');
    expect(health.ok).toBe(true);
  });

  it('logs once per interval while Redis stays away, not once per attempt, and once when back', () => {
    let now = 0;
    const { lines, logger } = recordingLogger();
    const health = new RedisHealth({ logger, reportEveryMs: 30_000, now: () => now });
    const redis = connection();
    health.watch(redis, 'main');
    for (let attempt = 0; attempt < 50; attempt += 1) {
      now += 1000; // ioredis retries up to every 2 s; fifty attempts over fifty seconds
      redis.emit('error', new Error('connect ECONNREFUSED'));
      redis.emit('reconnecting');
    }
    redis.emit('ready');
    expect(lines.map((l) => `${l.level}: ${l.msg}`)).toEqual([
      'warn: Redis is unreachable (connect ECONNREFUSED); retrying with backoff',
      'warn: Redis still unreachable after 30 s (connect ECONNREFUSED); retrying',
      'info: Redis is reachable again after 49 s',
    ]);
  });

  it('names the cause of a refused connection whose error has no message of its own', () => {
    const { lines, logger } = recordingLogger();
    const health = new RedisHealth({ logger });
    const redis = connection();
    health.watch(redis, 'main');
    // What Node gives for a name with an IPv4 and an IPv6 address, both refused.
    const refused = Object.assign(
      new AggregateError([new Error('connect ECONNREFUSED ::1:6379')]),
      {
        code: 'ECONNREFUSED',
      },
    );
    redis.emit('error', refused);
    expect(lines.map((l) => l.msg)).toEqual([
      'Redis is unreachable (ECONNREFUSED); retrying with backoff',
    ]);
  });

  it('stops counting a connection closed on purpose', () => {
    const { logger } = recordingLogger();
    const health = new RedisHealth({ logger });
    const redis = connection();
    health.watch(redis, 'main');
    redis.emit('reconnecting');
    redis.emit('end');
    expect(health.ok).toBe(true);
  });
});

describe('redactRedisUrl', () => {
  it('masks the password and keeps the rest', () => {
    expect(redactRedisUrl('redis://app:s3cret@redis.internal:6380/2')).toBe(
      'redis://app:****@redis.internal:6380/2',
    );
    expect(redactRedisUrl('rediss://:s3cret@host:6379')).toBe('rediss://:****@host:6379');
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactRedisUrl('not a url s3cret')).not.toContain('s3cret');
  });
});
