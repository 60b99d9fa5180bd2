import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import type { JobHandle } from '../../src/core/job.ts';
import { BullmqJobQueue } from '../../src/jobs/bullmq-job-queue.ts';
import { BullmqJobWorker } from '../../src/jobs/bullmq-job-worker.ts';
import { READY_EVERY_MS } from '../../src/jobs/ready-kernel-routing.ts';
import { RedisKeys } from '../../src/jobs/redis-keys.ts';
import { SandboxManager } from '../../src/sandbox/sandbox-manager.ts';
import { dockerTestScope } from '../support/docker.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { quietLogger, testSandboxSettings } from '../support/sandbox.ts';

const services = inject('services');
const ready = services.sandboxImage !== undefined && services.redisUrl !== undefined;

async function statusOf(handle: JobHandle): Promise<string | undefined> {
  for await (const event of handle.events) if (event.type === 'done') return event.status;
  return undefined;
}

describe.skipIf(!ready)('new sessions and ready kernels across workers', () => {
  const redisUrl = services.redisUrl ?? '';
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  async function worker(prefix: string, workerId: string, poolSize: number) {
    const scope = dockerTestScope();
    const manager = new SandboxManager({
      docker: scope.docker,
      settings: testSandboxSettings({ poolSize }),
      workerId,
      sessionIdleMs: 60_000,
      logger: quietLogger,
      labels: scope.labels,
    });
    await manager.start();
    const bull = new BullmqJobWorker({
      redisUrl,
      prefix,
      workerId,
      concurrency: 2,
      manager,
      blobs: new MemoryBlobStore({ maxBlobBytes: 1e6, ttlMs: 60_000 }),
      logger: quietLogger,
      sessionIdleMs: 60_000,
    });
    await bull.start();
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await bull.close();
      await manager.close();
      await scope.cleanup();
    };
    cleanups.push(close);
    return { manager, close };
  }

  // Three pool refills and a cold start: slow on a loaded 2-core host, hence the room.
  it(
    'sends each new thread to the worker that has a kernel ready, and to the other once it is gone',
    { timeout: 240_000 },
    async () => {
      const prefix = uniquePrefix('ready-kernel-routing');
      const redis = await connectRedis(redisUrl);
      const keys = new RedisKeys(prefix);
      cleanups.push(async () => {
        await deleteKeys(redis, prefix);
        redis.disconnect();
      });
      const queue = new BullmqJobQueue({ redisUrl, prefix, logger: quietLogger });
      cleanups.push(() => queue.close());
      const submit = (sessionId: string) =>
        queue.submit({ jobId: randomUUID(), sessionId, code: '1+1', submittedAt: Date.now() });

      await worker(prefix, 'no-pool', 0);
      const warm = await worker(prefix, 'with-pool', 1);
      for (const thread of ['t1', 't2', 't3']) {
        await warm.manager.pool.whenFull(60_000);
        // The worker without a pool reads the counts every READY_EVERY_MS: let it see one.
        while (!(await redis.hget(keys.poolReady, 'with-pool'))?.startsWith('1 ')) {
          await new Promise((resolve) => setTimeout(resolve, READY_EVERY_MS));
        }
        await new Promise((resolve) => setTimeout(resolve, READY_EVERY_MS * 3));
        expect(await statusOf(await submit(`routing:${thread}`))).toBe('ok');
        expect(await redis.get(keys.sessionWorker(`routing:${thread}`))).toBe('with-pool');
      }

      // Gone, its count goes with it: the worker without a pool takes new threads again.
      await warm.close();
      expect(await statusOf(await submit('routing:after'))).toBe('ok');
      expect(await redis.get(keys.sessionWorker('routing:after'))).toBe('no-pool');
    },
  );
});
