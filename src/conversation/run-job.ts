import { randomUUID } from 'node:crypto';
import type { BlobStore } from '../core/blob-store.ts';
import type { JobEvent } from '../core/cell-events.ts';
import { buildCellResult } from '../core/cell-result-builder.ts';
import type { CellResult } from '../core/cell-result.ts';
import type { CodeJobInput, JobQueue } from '../core/job.ts';

/**
 * Submits one job and waits for its result. The turn's abort signal (Stop) becomes the job's
 * cancel, from whichever process runs the job; the job still ends with its own outcome.
 */
export async function runJob(
  queue: { readonly jobs: JobQueue; readonly blobs: BlobStore },
  job: Omit<CodeJobInput, 'jobId' | 'submittedAt'> & { readonly jobId?: string },
  signal: AbortSignal,
  onEvent?: (event: JobEvent) => void,
): Promise<CellResult> {
  // A durable turn names its jobs: run again after a crash, it follows the first run's job.
  const handle = await queue.jobs.submit({
    ...job,
    jobId: job.jobId ?? randomUUID(),
    submittedAt: Date.now(),
  });
  const cancel = () => void handle.cancel();
  signal.addEventListener('abort', cancel, { once: true });
  // A stop that came while submitting has no listener to hear it.
  if (signal.aborted) cancel();
  const events: JobEvent[] = [];
  try {
    for await (const event of handle.events) {
      events.push(event);
      onEvent?.(event);
    }
  } finally {
    signal.removeEventListener('abort', cancel);
  }
  return buildCellResult(events, queue.blobs);
}
