import { Queue } from 'bullmq';
import type { Logger } from '../logging/logger.ts';
import { createRedis, type Redis } from '../redis/connection.ts';
import { RedisHealth } from '../redis/redis-health.ts';
import { JobEventLog } from './event-log.ts';
import {
  parseJob,
  type CodeJob,
  type CodeJobInput,
  type JobEvent,
  type JobHandle,
  type JobQueue,
} from '../core/job.ts';
import { claimSubmission } from './claim-submission.ts';
import { JobWatch } from './job-watch.ts';
import { queueJobOptions } from './queue-job-options.ts';
import { ReaderPool } from './reader-pool.ts';
import { readEvents } from './redis-event-stream.ts';
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
  private readonly readers: ReaderPool;
  private readonly health: RedisHealth;

  constructor(options: BullmqJobQueueOptions) {
    this.options = options;
    this.keys = new RedisKeys(options.prefix ?? 'sandbot');
    this.redis = createRedis(options.redisUrl, { maxRetriesPerRequest: null });
    this.health = options.redisHealth ?? new RedisHealth({ logger: options.logger });
    this.health.watch(this.redis, 'producer');
    this.readers = new ReaderPool(this.redis);
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
    // One round trip: claim the id, read the session's pin and whether its worker is alive.
    const claim = await claimSubmission(this.redis, this.keys, job.jobId, job.sessionId);
    let waitingFor: string | undefined;
    if (claim.first) waitingFor = await this.enqueue(job, claim.liveWorker);
    return this.handle(job, waitingFor);
  }

  /** Adds the job to its queue; returns the worker whose own queue holds it, if any. */
  private async enqueue(job: CodeJob, liveWorker: string | null): Promise<string | undefined> {
    const name = liveWorker === null ? this.keys.sharedQueue : this.keys.workerQueue(liveWorker);
    await this.queue(name).add('cell', job, queueJobOptions(job.jobId));
    return liveWorker ?? undefined;
  }

  private handle(job: CodeJob, queuedFor: string | undefined): JobHandle {
    const watch = new JobWatch({
      redis: this.redis,
      keys: this.keys,
      queue: (name) => this.queue(name),
      job,
      queuedFor,
      lostAfterMs: this.options.lostAfterMs ?? 8000,
      noWorkerForMs: this.options.noWorkerForMs ?? 60_000,
    });
    const eventsKey = this.keys.events(job.jobId);
    const readers = this.readers;
    // The reader is taken when the events are first read, so a handle never read holds none.
    async function* events(): AsyncGenerator<JobEvent> {
      const reader = readers.take();
      let quiet = true;
      try {
        const idle = () => watch.idle().then(() => undefined);
        for await (const event of readEvents(reader, eventsKey, { onIdle: idle })) {
          if (event.type === 'started') watch.started(event.workerId);
          yield event;
        }
      } catch (error) {
        quiet = false; // a read failed: the reader may be broken
        throw error;
      } finally {
        // Ended by `done` or by the caller between events: no read is in flight.
        readers.give(reader, quiet);
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
    this.readers.close();
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.redis.disconnect();
  }
}

function failedHandle(jobId: string, message: string): JobHandle {
  const log = new JobEventLog();
  log.push({ type: 'done', status: 'failed', durationMs: 0, kernelRestarted: false, message });
  return { jobId, events: log, cancel: () => Promise.resolve() };
}
