import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisBlobStore } from '../../src/blobs/redis-blob-store.ts';
import { runJob } from '../../src/conversation/run-job.ts';
import { BullmqJobQueue } from '../../src/jobs/bullmq-job-queue.ts';
import { BullmqJobWorker } from '../../src/jobs/bullmq-job-worker.ts';
import { RedisSessionPackages } from '../../src/packages/redis-session-packages.ts';
import { requestPackages } from '../../src/packages/request-install.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { serveIndex } from '../support/package-index.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { quietLogger, startManager, type ManagerHarness } from '../support/sandbox.ts';

const services = inject('services');

describe.skipIf(services.sandboxImage === undefined || services.redisUrl === undefined)(
  'install and packages through the Redis queue and a worker',
  () => {
    const prefix = uniquePrefix('packages-redis');
    let redis: Redis;
    let harness: ManagerHarness;
    let worker: BullmqJobWorker;
    let jobs: BullmqJobQueue;
    let blobs: RedisBlobStore;
    let index: Awaited<ReturnType<typeof serveIndex>>;

    beforeAll(async () => {
      const redisUrl = services.redisUrl ?? '';
      redis = await connectRedis(redisUrl);
      index = await serveIndex();
      harness = await startManager({ poolSize: 1 });
      blobs = new RedisBlobStore(redis, `${prefix}:`, { maxBlobBytes: 1024 * 1024, ttlMs: 60_000 });
      worker = new BullmqJobWorker({
        redisUrl,
        prefix,
        workerId: `packages-${randomUUID().slice(0, 6)}`,
        manager: harness.manager,
        blobs,
        logger: quietLogger,
        sessionIdleMs: 60_000,
        packages: {
          settings: {
            indexUrl: index.url,
            allow: ['sbtiny', 'sbdep'],
            maxWheelBytes: 1024 * 1024,
            maxTotalBytes: 4 * 1024 * 1024,
          },
          blobs,
          store: new RedisSessionPackages(redis, prefix, 60_000),
          logger: quietLogger,
          lifetimeMs: 60_000,
        },
      });
      await worker.start();
      jobs = new BullmqJobQueue({ redisUrl, prefix, logger: quietLogger });
    });

    afterAll(async () => {
      await jobs.close();
      await worker.close();
      index.server.close();
      expect(await harness.close()).toBe(0);
      await deleteKeys(redis, prefix);
      redis.disconnect();
    });

    it("the packages event crosses the queue; the session's list is the worker's", async () => {
      const sessionId = 'test:w:c:packages-redis';
      const signal = new AbortController().signal;
      const installed = await requestPackages(
        { jobs, blobs },
        { sessionId, packages: ['sbtiny', 'sboff'] },
        signal,
      );
      expect(installed.failure).toBeUndefined();
      expect(installed.installed).toEqual([
        { name: 'sbtiny', version: '1.0' },
        { name: 'sbdep', version: '1.1' },
      ]);
      expect(installed.refused).toEqual([
        {
          name: 'sboff',
          reason: "sboff is not on this bot's package allowlist",
          offAllowlist: true,
        },
      ]);
      const listed = await requestPackages(
        { jobs, blobs },
        { sessionId, packages: [] },
        signal,
        true,
      );
      expect([...listed.installed].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
        { name: 'sbdep', version: '1.1' },
        { name: 'sbtiny', version: '1.0' },
      ]);
      const cell = await runJob(
        { jobs, blobs },
        { sessionId, code: 'import sbtiny; print(sbtiny.ANSWER)', uploads: [] },
        signal,
      );
      expect(cell.stdout.trim()).toBe('42');
      // reset forgets them with the kernel.
      await runJob({ jobs, blobs }, { sessionId, code: '', command: 'reset' }, signal);
      const after = await requestPackages(
        { jobs, blobs },
        { sessionId, packages: [] },
        signal,
        true,
      );
      expect(after.installed).toEqual([]);
    });
  },
);
