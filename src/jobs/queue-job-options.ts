import type { JobsOptions } from 'bullmq';

/**
 * How every code job is added to a BullMQ queue: under its own id (a repeat submission finds
 * the first), never retried (a job whose worker died is reported `lost`, not run twice), and
 * kept a while after it ends for late readers.
 */
export function queueJobOptions(jobId: string): JobsOptions {
  return {
    jobId,
    attempts: 1,
    removeOnComplete: { age: 3600 },
    removeOnFail: { age: 86_400 },
  };
}
