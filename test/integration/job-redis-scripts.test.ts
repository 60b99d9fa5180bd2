import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { claimSubmission } from '../../src/jobs/claim-submission.ts';
import { ReaderPool } from '../../src/jobs/reader-pool.ts';
import { RedisKeys } from '../../src/jobs/redis-keys.ts';
import { takeJob, type TakeJobOptions } from '../../src/jobs/take-job.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';

const services = inject('services');

/*
 * The one-round-trip scripts a job goes through (submission, then the worker taking it) keep
 * the meaning of the separate commands they replaced; and the producer's stream readers are
 * reused without ever sharing a read in flight.
 */
describe.skipIf(services.redisUrl === undefined)('job transport scripts on Redis', () => {
  const prefix = uniquePrefix('job-redis-scripts');
  const keys = new RedisKeys(prefix);
  let redis: Redis;

  beforeAll(async () => {
    redis = await connectRedis(services.redisUrl ?? '');
  });

  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  const take = (jobId: string, sessionId: string, workerId = 'w1') => {
    const options: TakeJobOptions = {
      redis,
      keys,
      workerId,
      jobId,
      sessionId,
      jobEntry: `life-1 ${sessionId}`,
      lockTokenPrefix: `${workerId}:life-1:`,
      sessionIdleMs: 60_000,
    };
    return takeJob(options);
  };

  it('records the job under its life, pins the session and names the previous pin', async () => {
    const first = await take('job-a', 's1');
    expect(first).toMatchObject({ cancelled: false, previousWorker: null });
    expect(await redis.hget(keys.workerJobs('w1'), 'job-a')).toBe('life-1 s1');
    expect(await redis.get(keys.sessionWorker('s1'))).toBe('w1');
    expect(await redis.get(keys.sessionLock('s1'))).toMatch(/^w1:life-1:/);
    await first.release();
    expect(await redis.exists(keys.sessionLock('s1'))).toBe(0);

    const second = await take('job-b', 's1', 'w2');
    expect(second.previousWorker).toBe('w1');
    expect(await redis.get(keys.sessionWorker('s1'))).toBe('w2');
    await second.release();
  });

  it('says a job was cancelled before it started', async () => {
    await redis.set(keys.cancelled('job-c'), '1', 'EX', 60);
    const taken = await take('job-c', 's2');
    expect(taken.cancelled).toBe(true);
    await taken.release();
  });

  it('holds a second job of the session until the first lets go, and pins only then', async () => {
    const first = await take('job-d', 's3');
    let secondTaken = false;
    const second = take('job-e', 's3', 'w2').then((taken) => {
      secondTaken = true;
      return taken;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(secondTaken).toBe(false);
    // Recorded at once (a next life must be able to end it), but not pinned while waiting.
    expect(await redis.hget(keys.workerJobs('w2'), 'job-e')).toBe('life-1 s3');
    expect(await redis.get(keys.sessionWorker('s3'))).toBe('w1');
    await first.release();
    const taken = await second;
    expect(taken.previousWorker).toBe('w1');
    await taken.release();
  });

  it('lets only the first submission of an id through and names the pinned worker while it lives', async () => {
    expect(await claimSubmission(redis, keys, 'job-f', 's4')).toEqual({
      first: true,
      liveWorker: null,
    });
    expect((await claimSubmission(redis, keys, 'job-f', 's4')).first).toBe(false);

    await redis.set(keys.sessionWorker('s4'), 'w9', 'PX', 60_000);
    expect((await claimSubmission(redis, keys, 'job-g', 's4')).liveWorker).toBeNull();
    await redis.set(keys.heartbeat('w9'), 'life 1', 'PX', 60_000);
    expect(await claimSubmission(redis, keys, 'job-h', 's4')).toEqual({
      first: true,
      liveWorker: 'w9',
    });
  });

  it('reuses a reader whose read ended, and closes one that failed', async () => {
    const pool = new ReaderPool(redis, 1);
    try {
      const first = pool.take();
      await first.ping();
      pool.give(first, true);
      expect(pool.take()).toBe(first);

      const ended = new Promise((resolve) => first.once('end', resolve));
      pool.give(first, false);
      await ended;
      expect(pool.take()).not.toBe(first);
    } finally {
      pool.close();
    }
  });
});
