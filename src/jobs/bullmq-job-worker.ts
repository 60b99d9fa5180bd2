import { DelayedError, Worker, type Job } from 'bullmq';
import type { BlobStore } from '../core/blob-store.ts';
import type { Logger } from '../logging/logger.ts';
import { createRedis, type Redis } from '../redis/connection.ts';
import type { SandboxManager } from '../sandbox/sandbox-manager.ts';
import { parseJob, type JobDone, type JobEvent } from '../core/job.ts';
import type { CheckpointKeeper } from '../checkpoints/checkpoint-keeper.ts';
import type { PackageJobs } from '../packages/install-job.ts';
import { sessionLifetimeMs } from './defaults.ts';
import { JobExecutor } from './job-executor.ts';
import { RedisSessionFiles } from './redis-session-files.ts';
import { appendEvent } from './redis-event-stream.ts';
import { RedisKeys } from './redis-keys.ts';
import { RedisHealth } from '../redis/redis-health.ts';
import { NO_FREE_SLOT, ReadyKernelRouting } from './ready-kernel-routing.ts';
import { takeJob } from './take-job.ts';
import { WorkerLife } from './worker-life.ts';

/** How long a deferred new-session job waits before any worker may take it again. */
const DEFER_MS = 20;
/** Deferred at most this many times (about 100 ms in all), then it runs where it lands. */
const MAX_DEFERS = 5;

export interface BullmqJobWorkerOptions {
  readonly redisUrl: string;
  readonly prefix?: string;
  readonly workerId: string;
  /** Cells run at once by this worker (different sessions). Default 2. */
  readonly concurrency?: number;
  readonly manager: SandboxManager;
  readonly blobs: BlobStore;
  readonly logger: Logger;
  /** How long a session stays pinned to this worker after its last job. */
  readonly sessionIdleMs: number;
  /** Where connection trouble is reported (and /healthz reads); one is made when absent. */
  readonly redisHealth?: RedisHealth;
  /** Saves sessions' variables when idle and restores them into new kernels. */
  readonly checkpoints?: CheckpointKeeper;
  /** Installs packages from the operator's index (issue 18). */
  readonly packages?: PackageJobs;
  /** Told about every finished job (metrics). */
  readonly onJobDone?: (done: JobDone, queueWaitMs: number | undefined) => void;
}

/**
 * The worker side on BullMQ: takes jobs from the shared queue and from its own, runs each
 * against the session's sandbox, writes events to the job's stream, pins sessions to itself,
 * beats a heartbeat, and listens for cancellations.
 */
export class BullmqJobWorker {
  private readonly options: BullmqJobWorkerOptions;
  private readonly keys: RedisKeys;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly executor: JobExecutor;
  private readonly workers: Worker[] = [];
  /** BullMQ leaves connections it was given open; these are ours to close. */
  private readonly connections: Redis[] = [];
  private readonly running = new Map<string, AbortController>();
  private readonly health: RedisHealth;
  private readonly life: WorkerLife;
  private routing: ReadyKernelRouting | undefined;
  private claimed = false;

  constructor(options: BullmqJobWorkerOptions) {
    this.options = options;
    this.keys = new RedisKeys(options.prefix ?? 'sandbot');
    this.redis = createRedis(options.redisUrl, { maxRetriesPerRequest: null });
    this.subscriber = createRedis(options.redisUrl, { maxRetriesPerRequest: null });
    this.health = options.redisHealth ?? new RedisHealth({ logger: options.logger });
    this.health.watch(this.redis, 'worker');
    this.health.watch(this.subscriber, 'worker-subscriber');
    this.life = new WorkerLife({
      redis: this.redis,
      keys: this.keys,
      workerId: options.workerId,
      logger: options.logger,
    });
    this.executor = new JobExecutor({
      manager: options.manager,
      blobs: options.blobs,
      workerId: options.workerId,
      logger: options.logger,
      sessionFiles: new RedisSessionFiles(
        this.redis,
        this.keys,
        sessionLifetimeMs(options.sessionIdleMs),
      ),
      ...(options.checkpoints === undefined ? {} : { checkpoints: options.checkpoints }),
      ...(options.packages === undefined ? {} : { packages: options.packages }),
    });
  }

  /**
   * Takes WORKER_ID before anything else: refuses a live twin (WORKER_ID_IN_USE), and ends
   * with `lost` every job a previous life under this id left running, so its callers hear
   * at once. Call before removing that life's containers; `start` calls it if needed.
   * Returns how many jobs it ended.
   */
  async claim(): Promise<number> {
    await this.redis.connect();
    const ended = await this.life.claim();
    this.claimed = true;
    return ended;
  }

  async start(): Promise<void> {
    if (!this.claimed) await this.claim();
    await this.subscriber.connect();
    await this.subscriber.subscribe(this.keys.cancelChannel);
    this.subscriber.on('message', (_channel: string, jobId: string) =>
      this.running.get(jobId)?.abort(),
    );
    const concurrency = this.options.concurrency ?? 2;
    for (const name of [this.keys.workerQueue(this.options.workerId), this.keys.sharedQueue]) {
      const connection = this.redis.duplicate();
      this.health.watch(connection, `queue ${name}`);
      this.connections.push(connection);
      const shared = name === this.keys.sharedQueue;
      const processor = shared
        ? (job: Job, token?: string) => this.processShared(job, token)
        : (job: Job) => this.process(job);
      const worker = new Worker(name, processor, {
        connection,
        prefix: this.keys.prefix,
        concurrency,
        // A job whose worker died is reported lost by the producer, never silently re-run.
        maxStalledCount: 0,
      });
      worker.on('error', (error) => this.health.report(error));
      this.workers.push(worker);
    }
    this.routeNewSessions(concurrency);
  }

  /**
   * New sessions prefer a worker with a ready kernel: with none of its own, this worker stops
   * taking from the shared queue while another has one (ready-kernel-routing.ts). Its own
   * queue, the sessions it holds, is never paused.
   */
  private routeNewSessions(concurrency: number): void {
    const shared = this.workers.at(-1);
    this.routing = new ReadyKernelRouting({
      redis: this.redis,
      key: this.keys.poolReady,
      workerId: this.options.workerId,
      spare: () => this.spareKernels(concurrency),
      onDefer: (defer) => {
        const change = defer ? shared?.pause(true) : shared?.resume();
        change?.catch((error: unknown) => this.health.report(error));
      },
      logger: this.options.logger,
    });
    this.routing.start();
  }

  /** Ready kernels minus sessions waiting for one; NO_FREE_SLOT while every slot is busy. */
  private spareKernels(concurrency: number): number {
    const { pool } = this.options.manager;
    return this.running.size < concurrency ? pool.readyCount - pool.waitingCount : NO_FREE_SLOT;
  }

  /**
   * A shared job (a new session, or one whose worker is gone) taken while this worker defers
   * to one with a ready kernel (a fetch already under way when the consumer paused) goes
   * back for a few ms, for that worker to take; a few times at most, then it runs here.
   */
  private async processShared(bullJob: Job, token: string | undefined): Promise<JobDone> {
    const parsed = parseJob(bullJob.data);
    const deferrable =
      this.routing?.deferNow(this.spareKernels(this.options.concurrency ?? 2)) === true &&
      bullJob.attemptsStarted <= MAX_DEFERS &&
      parsed.ok &&
      !this.options.manager.has(parsed.job.sessionId);
    if (!deferrable) return this.process(bullJob);
    await bullJob.moveToDelayed(Date.now() + DEFER_MS, token);
    throw new DelayedError();
  }

  private async process(bullJob: Job): Promise<JobDone> {
    const parsed = parseJob(bullJob.data);
    const jobId = bullJob.id ?? 'unknown';
    const eventsKey = this.keys.events(jobId);
    let queueWaitMs: number | undefined;
    let unlock: (() => Promise<void>) | undefined;
    // Commands on one connection keep their order, so events other than `done` need not be
    // awaited one by one. The session is released before `done` is written: whoever reads
    // `done` may submit the session's next job at once, and it must not find the lock held.
    // The release is written first and both are awaited together: one round trip, in order.
    const emit = async (event: JobEvent) => {
      if (event.type === 'started') queueWaitMs = event.queueWaitMs;
      if (event.type !== 'done') {
        appendEvent(this.redis, eventsKey, event).catch((error: unknown) =>
          this.options.logger.warn({ err: error, job: jobId }, 'could not write an event'),
        );
        return;
      }
      this.options.onJobDone?.(event, queueWaitMs);
      const released = unlock?.();
      unlock = undefined;
      await Promise.all([released, appendEvent(this.redis, eventsKey, event)]);
    };
    if (!parsed.ok) {
      const done: JobDone = {
        type: 'done',
        status: 'failed',
        durationMs: 0,
        kernelRestarted: false,
        message: parsed.message,
      };
      await emit(done);
      return done;
    }
    const job = parsed.job;
    const controller = new AbortController();
    this.running.set(jobId, controller);
    try {
      const taken = await takeJob({
        redis: this.redis,
        keys: this.keys,
        workerId: this.options.workerId,
        jobId,
        sessionId: job.sessionId,
        jobEntry: this.life.jobEntry(job.sessionId),
        lockTokenPrefix: this.life.lockTokenPrefix,
        sessionIdleMs: this.options.sessionIdleMs,
      });
      unlock = taken.release;
      if (taken.cancelled) controller.abort();
      // A previous pin with no kernel here means the session's kernel was lost with its
      // worker, and this one takes over.
      const takeover = taken.previousWorker !== null && !this.options.manager.has(job.sessionId);
      return await this.executor.run(job, emit, { signal: controller.signal, takeover });
    } finally {
      await unlock?.();
      this.running.delete(jobId);
      await this.life.finished(jobId);
    }
  }

  /** Interrupts every running cell (shutdown after the grace period). */
  interruptAll(): void {
    for (const controller of this.running.values()) controller.abort();
  }

  /** Stops taking jobs, lets running cells finish (BullMQ waits), then lets go of Redis. */
  async close(): Promise<void> {
    await this.routing?.stop();
    await Promise.all(this.workers.map((w) => w.close()));
    await this.life.release().catch(() => undefined);
    for (const connection of this.connections) connection.disconnect();
    this.subscriber.disconnect();
    this.redis.disconnect();
  }
}
