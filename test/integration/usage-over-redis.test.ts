import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisBlobStore } from '../../src/blobs/redis-blob-store.ts';
import { runJob } from '../../src/conversation/run-job.ts';
import { BullmqJobQueue } from '../../src/jobs/bullmq-job-queue.ts';
import { BullmqJobWorker } from '../../src/jobs/bullmq-job-worker.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { quietLogger, startManager, type ManagerHarness } from '../support/sandbox.ts';

const services = inject('services');

describe.skipIf(services.sandboxImage === undefined || services.redisUrl === undefined)(
  "a cell's CPU and memory come back through the Redis queue",
  () => {
    const prefix = uniquePrefix('usage-redis');
    let redis: Redis;
    let harness: ManagerHarness;
    let worker: BullmqJobWorker;
    let jobs: BullmqJobQueue;
    let blobs: RedisBlobStore;

    beforeAll(async () => {
      const redisUrl = services.redisUrl ?? '';
      redis = await connectRedis(redisUrl);
      harness = await startManager({ poolSize: 1 });
      blobs = new RedisBlobStore(redis, `${prefix}:`, { maxBlobBytes: 1024 * 1024, ttlMs: 60_000 });
      worker = new BullmqJobWorker({
        redisUrl,
        prefix,
        workerId: `usage-${randomUUID().slice(0, 6)}`,
        manager: harness.manager,
        blobs,
        logger: quietLogger,
        sessionIdleMs: 60_000,
      });
      await worker.start();
      jobs = new BullmqJobQueue({ redisUrl, prefix, logger: quietLogger });
    });

    afterAll(async () => {
      await jobs.close();
      await worker.close();
      expect(await harness.close()).toBe(0);
      await deleteKeys(redis, prefix);
      redis.disconnect();
    });

    it("carries the worker's figures in the job's result", async () => {
      const result = await runJob(
        { jobs, blobs },
        {
          sessionId: 'test:w:c:usage-redis',
          code: 'import time\nstart = time.process_time()\nwhile time.process_time() - start < 1:\n    pass',
          uploads: [],
        },
        new AbortController().signal,
      );
      expect(result.status).toBe('ok');
      expect(result.usage?.cpuSeconds).toBeGreaterThanOrEqual(0.8);
      expect(result.usage?.cpuSeconds).toBeLessThanOrEqual(1.4);
      expect(result.usage?.memoryPeakBytes).toBeGreaterThan(1024 * 1024);
    });
  },
);
