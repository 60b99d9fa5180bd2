import { Queue } from 'bullmq';
import type { Logger } from '../logging/logger.ts';
import { createRedis, type Redis } from '../redis/connection.ts';
import { JobEventLog } from './event-log.ts';
import {
  parseJob,
  type CodeJob,
  type CodeJobInput,
  type JobEvent,
  type JobHandle,
  type JobQueue,
} from './job.ts';
import { appendEvent, readEvents } from './redis-event-stream.ts';
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
}

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

  constructor(options: BullmqJobQueueOptions) {
    this.options = options;
    this.keys = new RedisKeys(options.prefix ?? 'sandbot');
    this.redis = createRedis(options.redisUrl, { maxRetriesPerRequest: null });
    this.redis.on('error', (error) => options.logger.warn({ err: error }, 'redis (producer)'));
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (queue === undefined) {
      queue = new Queue(name, { connection: this.redis, prefix: this.keys.prefix });
      queue.on('error', (error) => this.options.logger.warn({ err: error }, 'bullmq queue'));
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

  private handle(job: CodeJob, waitingFor: string | undefined): JobHandle {
    const reader = this.redis.duplicate();
    reader.on('error', () => undefined);
    this.readers.add(reader);
    const eventsKey = this.keys.events(job.jobId);
    let workerId: string | undefined;
    let queuedFor = waitingFor;
    let silentSince: number | undefined;
    const lostAfterMs = this.options.lostAfterMs ?? 8000;

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
      if (workerId === undefined) return undefined;
      const alive = (await this.redis.exists(this.keys.heartbeat(workerId))) === 1;
      if (alive) {
        silentSince = undefined;
        return undefined;
      }
      silentSince ??= Date.now();
      if (Date.now() - silentSince < lostAfterMs) return undefined;
      const lost: JobEvent = {
        type: 'done',
        status: 'lost',
        durationMs: 0,
        kernelRestarted: true,
        message:
          'the worker running this cell stopped; it was not run again. Run it again to continue',
      };
      // The session's pin stays: the worker that takes its next job sees it and restores files.
      await appendEvent(this.redis, eventsKey, lost);
      return lost;
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
  log.append({ type: 'done', status: 'failed', durationMs: 0, kernelRestarted: false, message });
  return { jobId, events: log.read(), cancel: () => Promise.resolve() };
}
