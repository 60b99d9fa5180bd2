import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { MemoryBlobStore } from '../src/blobs/memory-blob-store.ts';
import type { SandboxSettings } from '../src/core/config.ts';
import type { JobHandle } from '../src/core/job.ts';
import { BullmqJobQueue } from '../src/jobs/bullmq-job-queue.ts';
import { BullmqJobWorker } from '../src/jobs/bullmq-job-worker.ts';
import { RedisKeys } from '../src/jobs/redis-keys.ts';
import { createRedis } from '../src/redis/connection.ts';
import { createDockerClient, type Docker } from '../src/sandbox/docker-client.ts';
import { SandboxManager, removeContainers } from '../src/sandbox/sandbox-manager.ts';

/** The sandbox settings the queue benchmarks start from; each overrides what it measures. */
export function benchSettings(image: string, overrides: Partial<SandboxSettings> = {}) {
  const settings: SandboxSettings = {
    image,
    runtime: undefined,
    memoryMb: 512,
    cpus: 1,
    diskMb: 64,
    tmpMb: 32,
    pidsLimit: 128,
    cellTimeoutMs: 60_000,
    outputLimitBytes: 1024 * 1024,
    maxFileBytes: 10 * 1024 * 1024,
    maxFiles: 20,
    poolSize: 0,
    ...overrides,
  };
  return settings;
}

export interface QueueFixtureOptions {
  readonly redisUrl: string;
  readonly settings: SandboxSettings;
  /** One in-process worker (its own sandbox manager and BullMQ consumers) per id. */
  readonly workerIds: readonly string[];
  /** Cells each worker runs at once. Default 10. */
  readonly concurrency?: number;
}

/**
 * Producer, Redis and in-process workers, as in production but in one process: what the queue
 * benchmarks measure through. `close()` removes every container and Redis key it made.
 */
export class QueueFixture {
  readonly docker: Docker = createDockerClient();
  readonly prefix = `sandbot-bench-${process.pid}-${randomUUID().slice(0, 8)}`;
  readonly managers: SandboxManager[] = [];
  readonly workers: BullmqJobWorker[] = [];
  readonly queue: BullmqJobQueue;
  private readonly options: QueueFixtureOptions;

  private constructor(options: QueueFixtureOptions) {
    this.options = options;
    this.queue = new BullmqJobQueue({
      redisUrl: options.redisUrl,
      prefix: this.prefix,
      logger: pino({ level: 'silent' }),
    });
  }

  static async start(options: QueueFixtureOptions): Promise<QueueFixture> {
    const fixture = new QueueFixture(options);
    try {
      for (const workerId of options.workerIds) await fixture.addWorker(workerId);
    } catch (error) {
      await fixture.close();
      throw error;
    }
    return fixture;
  }

  private async addWorker(workerId: string): Promise<void> {
    const logger = pino({ level: 'silent' });
    const { redisUrl, settings } = this.options;
    const manager = new SandboxManager({
      docker: this.docker,
      settings,
      workerId,
      sessionIdleMs: 600_000,
      logger,
    });
    this.managers.push(manager);
    await manager.start();
    const worker = new BullmqJobWorker({
      redisUrl,
      prefix: this.prefix,
      workerId,
      concurrency: this.options.concurrency ?? 10,
      manager,
      blobs: new MemoryBlobStore({ maxBlobBytes: 1e6, ttlMs: 60_000 }),
      logger,
      sessionIdleMs: 600_000,
    });
    this.workers.push(worker);
    await worker.start();
  }

  submit(sessionId: string, code: string): Promise<JobHandle> {
    return this.queue.submit({ jobId: randomUUID(), sessionId, code, submittedAt: Date.now() });
  }

  /** Which worker the session is pinned to, if any. */
  async pinnedWorker(sessionId: string): Promise<string | undefined> {
    const redis = createRedis(this.options.redisUrl);
    await redis.connect();
    try {
      return (await redis.get(new RedisKeys(this.prefix).sessionWorker(sessionId))) ?? undefined;
    } finally {
      redis.disconnect();
    }
  }

  /** Resolves once every worker's warm pool holds its resting size. */
  async whenPoolsFull(timeoutMs = 120_000): Promise<void> {
    await Promise.all(this.managers.map((m) => m.pool.whenFull(timeoutMs)));
  }

  async close(): Promise<void> {
    await this.queue.close();
    for (const worker of this.workers) await worker.close();
    for (const manager of this.managers) await manager.close();
    for (const workerId of this.options.workerIds)
      await removeContainers(this.docker, { 'sandbot.worker': workerId });
    const redis = createRedis(this.options.redisUrl);
    await redis.connect();
    const keys = await redis.keys(`${this.prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
}

/** Reads a job's events to its end; a cell that did not end `ok` is a benchmark failure. */
export async function drain(handle: JobHandle): Promise<void> {
  for await (const event of handle.events)
    if (event.type === 'done' && event.status !== 'ok')
      throw new Error(`${event.status}: ${event.message ?? 'no message'}`);
}
