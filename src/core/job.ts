import { z } from 'zod';
import type { JobEvent } from './cell-events.ts';

const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,255}$/;
/** Code of one cell; a chat message cannot be longer, and nothing sensible is. */
export const MAX_CODE_CHARS = 200_000;
export const MAX_UPLOADS_PER_JOB = 20;
/** Packages named in one `install`; a request for more is not a chat message's. */
export const MAX_PACKAGES_PER_JOB = 50;
const MAX_REQUIREMENT_CHARS = 1000;

const blobRef = z.object({
  id: z.string().min(1).max(100),
  name: z.string().min(1).max(255),
  sizeBytes: z.number().int().nonnegative(),
  mime: z.string().max(200),
});

/**
 * A code job as it travels through the queue. It holds no secrets and no file bytes: files
 * are BlobRefs into the blob store (job data sits in Redis as plain text).
 */
export const codeJob = z.object({
  jobId: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/),
  sessionId: z.string().regex(SESSION_ID),
  code: z.string().max(MAX_CODE_CHARS),
  /** Files to place in /mnt/data before the code runs. */
  uploads: z.array(blobRef).max(MAX_UPLOADS_PER_JOB).default([]),
  timeoutMs: z.number().int().positive().max(86_400_000).optional(),
  /**
   * Instead of running `code`: `reset` gives the session a fresh kernel and an empty
   * /mnt/data; `status` reports on the kernel in a notice; `forget` drops the session's
   * checkpoint (its kernel keeps running); `install` installs `packages` from the operator's
   * index (issue 18, src/packages/); `packages` lists what the session installed. Both end in
   * one `packages` event.
   */
  command: z.enum(['reset', 'status', 'forget', 'install', 'packages']).optional(),
  /** For `install`: requirement strings such as `tabulate` or `tinytable==1.2`. */
  packages: z
    .array(z.string().min(1).max(MAX_REQUIREMENT_CHARS))
    .max(MAX_PACKAGES_PER_JOB)
    .optional(),
  /** For `install`: names the bot's approvers allowed beyond SANDBOX_PACKAGES. */
  approvedPackages: z.array(z.string().min(1).max(200)).max(MAX_PACKAGES_PER_JOB).optional(),
  submittedAt: z.number(),
});

export type CodeJob = z.output<typeof codeJob>;
export type CodeJobInput = z.input<typeof codeJob>;

// The event shapes are declared once, in src/core/cell-events.ts.
export type { JobDone, JobEvent, JobStatus } from './cell-events.ts';

export interface JobHandle {
  readonly jobId: string;
  /** The job's events as they happen; ends after `done`. Iterate once. */
  readonly events: AsyncIterable<JobEvent>;
  /** Interrupts the job (from any process); it still ends with one `done`. */
  cancel(): Promise<void>;
}

/** The producer side of the job queue: the bot submits, some worker runs. */
export interface JobQueue {
  submit(job: CodeJobInput): Promise<JobHandle>;
  close(): Promise<void>;
}

/** Validates a job; the message names what is wrong without echoing the code. */
export function parseJob(
  input: unknown,
): { ok: true; job: CodeJob } | { ok: false; message: string } {
  const result = codeJob.safeParse(input);
  if (result.success) return { ok: true, job: result.data };
  const fields = [...new Set(result.error.issues.map((i) => i.path.join('.') || 'job'))];
  return { ok: false, message: `invalid job: ${fields.join(', ')}` };
}
