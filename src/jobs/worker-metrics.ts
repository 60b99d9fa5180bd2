import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SandboxManager } from '../sandbox/sandbox-manager.ts';
import type { JobDone } from '../core/job.ts';

/** A worker's Prometheus metrics (prom-client), served on /metrics. */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly jobs: Counter<'status'>;
  private readonly cellSeconds: Histogram;
  private readonly queueWaitSeconds: Histogram;

  constructor(manager: SandboxManager) {
    this.jobs = new Counter({
      name: 'sandbot_jobs_total',
      help: 'Jobs run by this worker, by outcome',
      labelNames: ['status'],
      registers: [this.registry],
    });
    this.cellSeconds = new Histogram({
      name: 'sandbot_cell_duration_seconds',
      help: 'Time from a job starting on this worker to its end',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [this.registry],
    });
    this.queueWaitSeconds = new Histogram({
      name: 'sandbot_queue_wait_seconds',
      help: 'Time from submission to a worker taking the job',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [this.registry],
    });
    new Gauge({
      name: 'sandbot_live_sessions',
      help: 'Sessions with a sandbox on this worker',
      registers: [this.registry],
      collect() {
        this.set(manager.liveSessions);
      },
    });
    new Gauge({
      name: 'sandbot_warm_pool_ready',
      help: 'Ready containers in the warm pool',
      registers: [this.registry],
      collect() {
        this.set(manager.pool.readyCount);
      },
    });
  }

  recordJob(done: JobDone, queueWaitMs: number | undefined): void {
    this.jobs.inc({ status: done.status });
    this.cellSeconds.observe(done.durationMs / 1000);
    if (queueWaitMs !== undefined) this.queueWaitSeconds.observe(queueWaitMs / 1000);
  }
}
