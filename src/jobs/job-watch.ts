import type { Queue } from 'bullmq';
import type { Redis } from '../redis/connection.ts';
import type { CodeJob } from '../core/job.ts';
import { queueJobOptions } from './queue-job-options.ts';
import { appendDoneOnce } from './redis-event-stream.ts';
import type { RedisKeys } from './redis-keys.ts';
import { anyWorkerAlive, endUnrunnableJob } from './unrunnable-job.ts';
import { LOST } from './worker-life.ts';

/** How often a waiting job's caller looks for reasons it will never run. */
const UNRUNNABLE_CHECK_EVERY_MS = 5000;

export interface JobWatchOptions {
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly queue: (name: string) => Queue;
  readonly job: CodeJob;
  /** The worker whose own queue the job was put in, if any. */
  readonly queuedFor: string | undefined;
  readonly lostAfterMs: number;
  readonly noWorkerForMs: number;
}

/**
 * What a caller does while its job's stream is quiet, so it never waits for ever: a job in a
 * dead worker's own queue moves to the shared queue; a started job whose worker (this life
 * of it) stopped beating ends `lost`; a job nobody can run ends (see unrunnable-job.ts).
 * Every end is written to the stream, once, so all readers agree.
 */
export class JobWatch {
  private readonly options: JobWatchOptions;
  private workerId: string | undefined;
  private queuedFor: string | undefined;
  private silentSince: number | undefined;
  private noWorkerSince: number | undefined;
  private lastCheck = Date.now();

  constructor(options: JobWatchOptions) {
    this.options = options;
    this.queuedFor = options.queuedFor;
  }

  /** The job's `started` event named the worker running it. */
  started(workerId: string): void {
    this.workerId = workerId;
  }

  /** Called whenever a read of the stream timed out with nothing new. */
  async idle(): Promise<void> {
    if (this.workerId === undefined && this.queuedFor !== undefined) return this.checkPinned();
    if (this.workerId === undefined) return this.checkWaiting();
    return this.checkRunning(this.workerId);
  }

  private async checkPinned(): Promise<void> {
    const waiting = this.queuedFor ?? '';
    const { redis, keys } = this.options;
    if ((await redis.exists(keys.heartbeat(waiting))) === 1) return;
    // Not rescued means the dead worker had taken it: then it is lost with that worker.
    if (!(await this.rescue(waiting))) this.workerId = waiting;
    this.queuedFor = undefined;
  }

  /**
   * A job waiting in the own queue of a worker that has since died would wait forever:
   * move it to the shared queue. Returns false when it had already been taken.
   */
  private async rescue(workerId: string): Promise<boolean> {
    const { job, keys, queue } = this.options;
    if ((await queue(keys.workerQueue(workerId)).remove(job.jobId)) !== 1) return false;
    await queue(keys.sharedQueue).add('cell', job, queueJobOptions(job.jobId));
    return true;
  }

  private async checkWaiting(): Promise<void> {
    if (Date.now() - this.lastCheck < UNRUNNABLE_CHECK_EVERY_MS) return;
    this.lastCheck = Date.now();
    const { redis, keys } = this.options;
    if (await anyWorkerAlive(redis, keys)) this.noWorkerSince = undefined;
    else this.noWorkerSince ??= Date.now();
    await endUnrunnableJob({
      redis,
      keys,
      queue: this.options.queue(keys.sharedQueue),
      jobId: this.options.job.jobId,
      noWorkerSince: this.noWorkerSince,
      noWorkerForMs: this.options.noWorkerForMs,
    });
  }

  private async checkRunning(workerId: string): Promise<void> {
    if (await this.runsStill(workerId)) {
      this.silentSince = undefined;
      return;
    }
    this.silentSince ??= Date.now();
    if (Date.now() - this.silentSince < this.options.lostAfterMs) return;
    // The session's pin stays: the worker that takes its next job sees it and restores files.
    // Only the first end counts (the worker's next life may have written one already).
    await appendDoneOnce(
      this.options.redis,
      this.options.keys.events(this.options.job.jobId),
      LOST,
    );
  }

  /**
   * Whether the life of `workerId` that took the job still beats. A worker restarted under
   * the same id beats again at once, so a live heartbeat alone does not say the job's process
   * is alive: the job's entry names the life that took it.
   */
  private async runsStill(workerId: string): Promise<boolean> {
    const { redis, keys, job } = this.options;
    const [beat, taken] = await Promise.all([
      redis.get(keys.heartbeat(workerId)),
      redis.hget(keys.workerJobs(workerId), job.jobId),
    ]);
    if (beat === null) return false;
    if (taken === null) return true; // finished (its `done` is on the way) or not yet recorded
    return beat.split(' ')[0] === taken.split(' ')[0];
  }
}
