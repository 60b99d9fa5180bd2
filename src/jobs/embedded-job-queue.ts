import { JobEventLog } from './event-log.ts';
import { parseJob, type CodeJobInput, type JobHandle, type JobQueue } from '../core/job.ts';
import type { JobExecutor } from './job-executor.ts';

interface RunningJob {
  readonly log: JobEventLog;
  readonly controller: AbortController;
}

/**
 * The job queue with no Redis: jobs run in this process on the embedded worker. Same
 * contract as the BullMQ transport (test/integration/job-queue-contract.test.ts).
 */
export class EmbeddedJobQueue implements JobQueue {
  private readonly jobs = new Map<string, RunningJob>();
  private readonly executor: JobExecutor;

  constructor(executor: JobExecutor) {
    this.executor = executor;
  }

  submit(input: CodeJobInput): Promise<JobHandle> {
    const existing = this.jobs.get(input.jobId);
    if (existing !== undefined) return Promise.resolve(this.handle(input.jobId, existing));
    const running: RunningJob = { log: new JobEventLog(), controller: new AbortController() };
    this.jobs.set(input.jobId, running);
    const parsed = parseJob(input);
    if (!parsed.ok) {
      running.log.push({
        type: 'done',
        status: 'failed',
        durationMs: 0,
        kernelRestarted: false,
        message: parsed.message,
      });
    } else {
      const job = parsed.job;
      void this.executor
        .needsTakeover(job.sessionId)
        .catch(() => false)
        .then((takeover) =>
          this.executor.run(job, (event) => Promise.resolve(running.log.push(event)), {
            signal: running.controller.signal,
            takeover,
          }),
        )
        .finally(() => this.forgetLater(input.jobId));
    }
    return Promise.resolve(this.handle(input.jobId, running));
  }

  private handle(jobId: string, running: RunningJob): JobHandle {
    return {
      jobId,
      events: running.log,
      cancel: () => {
        running.controller.abort();
        return Promise.resolve();
      },
    };
  }

  /** Keeps finished jobs for a while so a duplicate submission still finds the first run. */
  private forgetLater(jobId: string): void {
    setTimeout(() => this.jobs.delete(jobId), 10 * 60_000).unref();
  }

  close(): Promise<void> {
    for (const running of this.jobs.values()) running.controller.abort();
    return Promise.resolve();
  }
}
