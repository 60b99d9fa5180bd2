import { Queue } from 'bullmq';
import type { Logger } from '../logging/logger.ts';
import { createRedis, type Redis } from '../redis/connection.ts';
import { RedisHealth } from '../redis/redis-health.ts';
import { JobEventLog } from './event-log.ts';
import {
  parseJob,
  type CodeJob,
  type CodeJobInput,
  type JobDone,
  type JobEvent,
  type JobHandle,
  type JobQueue,
} from './job.ts';
import { appendDoneOnce, readEvents } from './redis-event-stream.ts';
import { anyWorkerAlive, endUnrunnableJob } from './unrunnable-job.ts';
import { LOST_MESSAGE } from './worker-life.ts';
import { RedisKeys } from './redis-keys.ts';

export interface BullmqJobQueueOptions {
  readonly redisUrl: string;
  /** Key prefix shared by the bot and its workers. Default `sandbot`. */
  readonly prefix?: string;
  readonly logger: Logger;
  /**
   * How long a started job's worker may miss heartbeats before the job is reported lost.
   * Heartbeats are refreshed every second and expire after five; default 8 s.
   */
  readonly lostAfterMs?: number;
  /**
   * A job still waiting in the shared queue while no worker at all has been alive this long
   * is taken out of the queue and ended `failed`, so callers never wait for ever. Default 60 s.
   */
  readonly noWorkerForMs?: number;
  /** Where connection trouble is reported (and /healthz reads); one is made when absent. */
  readonly redisHealth?: RedisHealth;
}

/** How often a waiting job's caller looks for reasons it will never run. */
const UNRUNNABLE_CHECK_EVERY_MS = 5000;

/** One day: long enough for any retry of a submission, short enough to clean itself up. */
const SUBMITTED_TTL_S = 86_400;

/**
 * The producer side on BullMQ: routes a session's job to the worker that holds its kernel
 * while that worker is alive, else to the shared queue; follows the job's events on a Redis
 * stream; cancels through pub/sub; reports a job whose worker died as `lost`.
 */
export class BullmqJobQueue implements JobQueue {
  private readonly options: BullmqJobQueueOptions;
  private readonly keys: RedisKeys;
  private readonly redis: Redis;
  private readonly queues = new Map<string, Queue>();
  private readonly readers = new Set<Redis>();
  private readonly health: RedisHealth;

  constructor(options: BullmqJobQueueOptions) {
    this.options = options;
    this.keys = new RedisKeys(options.prefix ?? 'sandbot');
    this.redis = createRedis(options.redisUrl, { maxRetriesPerRequest: null });
    this.health = options.redisHealth ?? new RedisHealth({ logger: options.logger });
    this.health.watch(this.redis, 'producer');
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (queue === undefined) {
      queue = new Queue(name, { connection: this.redis, prefix: this.keys.prefix });
      queue.on('error', (error) => this.health.report(error));
      this.queues.set(name, queue);
    }
    return queue;
  }

  async submit(input: CodeJobInput): Promise<JobHandle> {
    const parsed = parseJob(input);
    if (!parsed.ok) return failedHandle(input.jobId, parsed.message);
    const job = parsed.job;
    // The first submission of an id wins; a repeat only follows the first one's events.
    // One round trip: claim the id and read the session's pin together.
    const replies = await this.redis
      .pipeline()
      .set(this.keys.submitted(job.jobId), '1', 'EX', SUBMITTED_TTL_S, 'NX')
      .get(this.keys.sessionWorker(job.sessionId))
      .exec();
    let waitingFor: string | undefined;
    if (replies?.[0]?.[1] === 'OK') {
      const pinned = replies[1]?.[1];
      waitingFor = await this.enqueue(job, typeof pinned === 'string' ? pinned : null);
    }
    return this.handle(job, waitingFor);
  }

  /** Adds the job to its queue; returns the worker whose own queue holds it, if any. */
  private async enqueue(job: CodeJob, pinned: string | null): Promise<string | undefined> {
    const alive = pinned !== null && (await this.redis.exists(this.keys.heartbeat(pinned))) === 1;
    const name = alive ? this.keys.workerQueue(pinned) : this.keys.sharedQueue;
    await this.queue(name).add('cell', job, {
      jobId: job.jobId,
      attempts: 1,
      removeOnComplete: { age: 3600 },
      removeOnFail: { age: 86_400 },
    });
    return alive ? pinned : undefined;
  }

  /**
   * A job waiting in the own queue of a worker that has since died would wait forever:
   * move it to the shared queue. Returns false when it had already been taken.
   */
  private async rescue(job: CodeJob, workerId: string): Promise<boolean> {
    const removed = await this.queue(this.keys.workerQueue(workerId)).remove(job.jobId);
    if (removed !== 1) return false;
    await this.queue(this.keys.sharedQueue).add('cell', job, {
      jobId: job.jobId,
      attempts: 1,
      removeOnComplete: { age: 3600 },
      removeOnFail: { age: 86_400 },
    });
    return true;
  }

  /**
   * Whether the life of `workerId` that took the job still beats. A worker restarted under
   * the same id beats again at once, so a live heartbeat alone does not say the job's process
   * is alive: the job's entry names the life that took it.
   */
  private async runsStill(workerId: string, jobId: string): Promise<boolean> {
    const [beat, taken] = await Promise.all([
      this.redis.get(this.keys.heartbeat(workerId)),
      this.redis.hget(this.keys.workerJobs(workerId), jobId),
    ]);
    if (beat === null) return false;
    if (taken === null) return true; // finished (its `done` is on the way) or not yet recorded
    return beat.split(' ')[0] === taken.split(' ')[0];
  }

  private handle(job: CodeJob, waitingFor: string | undefined): JobHandle {
    const reader = this.redis.duplicate();
    reader.on('error', () => undefined);
    this.readers.add(reader);
    const eventsKey = this.keys.events(job.jobId);
    let workerId: string | undefined;
    let queuedFor = waitingFor;
    let silentSince: number | undefined;
    const lostAfterMs = this.options.lostAfterMs ?? 8000;
    let noWorkerSince: number | undefined;
    let lastCheck = Date.now();

    // While idle: a started job whose worker stopped beating is lost; report it once, in the
    // stream, so every reader of this job agrees.
    const onIdle = async (): Promise<JobEvent | undefined> => {
      if (workerId === undefined && queuedFor !== undefined) {
        const waiting = queuedFor;
        const alive = (await this.redis.exists(this.keys.heartbeat(waiting))) === 1;
        if (!alive) {
          // Not rescued means the dead worker had taken it: then it is lost with that worker.
          if (!(await this.rescue(job, waiting))) workerId = waiting;
          queuedFor = undefined;
        }
        return undefined;
      }
      if (workerId === undefined) {
        if (Date.now() - lastCheck < UNRUNNABLE_CHECK_EVERY_MS) return undefined;
        lastCheck = Date.now();
        if (await anyWorkerAlive(this.redis, this.keys)) noWorkerSince = undefined;
        else noWorkerSince ??= Date.now();
        await endUnrunnableJob({
          redis: this.redis,
          keys: this.keys,
          queue: this.queue(this.keys.sharedQueue),
          jobId: job.jobId,
          noWorkerSince,
          noWorkerForMs: this.options.noWorkerForMs ?? 60_000,
        });
        return undefined;
      }
      if (await this.runsStill(workerId, job.jobId)) {
        silentSince = undefined;
        return undefined;
      }
      silentSince ??= Date.now();
      if (Date.now() - silentSince < lostAfterMs) return undefined;
      const lost: JobDone = {
        type: 'done',
        status: 'lost',
        durationMs: 0,
        kernelRestarted: true,
        message: LOST_MESSAGE,
      };
      // The session's pin stays: the worker that takes its next job sees it and restores files.
      // Only the first end counts (the worker's next life may have written one already); the
      // reader goes on and reads whichever it was.
      await appendDoneOnce(this.redis, eventsKey, lost);
      return undefined;
    };

    const readers = this.readers;
    async function* events(): AsyncGenerator<JobEvent> {
      try {
        for await (const event of readEvents(reader, eventsKey, { onIdle })) {
          if (event.type === 'started') workerId = event.workerId;
          yield event;
        }
      } finally {
        readers.delete(reader);
        reader.disconnect();
      }
    }

    return {
      jobId: job.jobId,
      events: events(),
      cancel: async () => {
        await this.redis.set(this.keys.cancelled(job.jobId), '1', 'EX', 3600);
        await this.redis.publish(this.keys.cancelChannel, job.jobId);
      },
    };
  }

  async close(): Promise<void> {
    for (const reader of this.readers) reader.disconnect();
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.redis.disconnect();
  }
}

function failedHandle(jobId: string, message: string): JobHandle {
  const log = new JobEventLog();
  log.push({ type: 'done', status: 'failed', durationMs: 0, kernelRestarted: false, message });
  return { jobId, events: log, cancel: () => Promise.resolve() };
}
