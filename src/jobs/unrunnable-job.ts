import type { Queue } from 'bullmq';
import type { Redis } from '../redis/connection.ts';
import type { JobDone } from '../core/job.ts';
import { appendDoneOnce } from './redis-event-stream.ts';
import type { RedisKeys } from './redis-keys.ts';

/** Whether any worker of this deployment beats right now. */
export async function anyWorkerAlive(redis: Redis, keys: RedisKeys): Promise<boolean> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', keys.heartbeat('*'), 'COUNT', 200);
    if (found.length > 0) return true;
    cursor = next;
  } while (cursor !== '0');
  return false;
}

/**
 * Ends, with one `done`, a job in the shared queue that nobody will ever run, so its caller
 * is not left waiting for ever:
 * - BullMQ failed it: the worker that took it died before its first event (a stalled job is
 *   never retried here, `maxStalledCount: 0`). It is `lost`, like a job that died running.
 * - It still waits while no worker of the deployment has been alive for `noWorkerForMs`: it is
 *   taken out of the queue (so it cannot run after its caller was told) and `failed`.
 * Returns true when the job was ended here.
 */
export async function endUnrunnableJob(options: {
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly queue: Queue;
  readonly jobId: string;
  /** Since when no worker has been seen alive, or undefined while one is. */
  readonly noWorkerSince: number | undefined;
  readonly noWorkerForMs: number;
}): Promise<boolean> {
  const { redis, keys, queue, jobId } = options;
  const bullJob = await queue.getJob(jobId);
  const state = bullJob === undefined ? undefined : await bullJob.getState();
  if (state === 'failed') {
    return appendDoneOnce(redis, keys.events(jobId), {
      ...ENDED,
      status: 'lost',
      kernelRestarted: true,
      message: 'the worker that took this cell stopped before running it. Run it again',
    });
  }
  const noWorker =
    options.noWorkerSince !== undefined &&
    Date.now() - options.noWorkerSince >= options.noWorkerForMs;
  if (state !== 'waiting' || !noWorker) return false;
  if ((await queue.remove(jobId)) !== 1) return false; // taken meanwhile: it will report
  return appendDoneOnce(redis, keys.events(jobId), {
    ...ENDED,
    status: 'failed',
    message: `no sandbot worker has been running for ${Math.round(options.noWorkerForMs / 1000)} s, so this cell was not run. Start \`sandbot worker\` (or check the ones you have), then run it again`,
  });
}

const ENDED: JobDone = { type: 'done', status: 'failed', durationMs: 0, kernelRestarted: false };
