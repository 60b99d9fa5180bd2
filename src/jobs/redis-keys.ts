/**
 * Every Redis key and channel the job transport uses, in one place. `prefix` separates
 * deployments (and tests) sharing one Redis.
 */
export class RedisKeys {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** BullMQ queue any worker takes from. */
  get sharedQueue(): string {
    return 'jobs';
  }

  /** BullMQ queue only `workerId` takes from: jobs of the sessions it holds. */
  workerQueue(workerId: string): string {
    return `jobs-w-${workerId}`;
  }

  /** Ordered events of one job (a Redis stream). */
  events(jobId: string): string {
    return `${this.prefix}:job:${jobId}:events`;
  }

  /** Set once when a job id is first submitted: the same id never runs twice. */
  submitted(jobId: string): string {
    return `${this.prefix}:job:${jobId}:submitted`;
  }

  cancelled(jobId: string): string {
    return `${this.prefix}:job:${jobId}:cancelled`;
  }

  get cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }

  /** Each worker's count of ready kernels (ready-kernel-routing.ts), one field per worker. */
  get poolReady(): string {
    return `${this.prefix}:pool-ready`;
  }

  /** Exists while the worker is alive (a key with a short TTL, refreshed). */
  heartbeat(workerId: string): string {
    const [before, after] = this.heartbeatAround;
    return `${before}${workerId}${after}`;
  }

  /** What stands before and after the worker id in its heartbeat key (for a Lua script). */
  get heartbeatAround(): readonly [string, string] {
    return [`${this.prefix}:worker:`, ':alive'];
  }

  /**
   * jobId -> "life sessionId" of every job a worker has taken and not finished. A worker
   * that comes back under the same id ends the ones its previous life left behind.
   */
  workerJobs(workerId: string): string {
    return `${this.prefix}:worker:${workerId}:jobs`;
  }

  /** Which worker holds the session's kernel. */
  sessionWorker(sessionId: string): string {
    return `${this.prefix}:session:${sessionId}:worker`;
  }

  /** Held while one of the session's jobs runs, so two never run at once. */
  sessionLock(sessionId: string): string {
    return `${this.prefix}:session:${sessionId}:lock`;
  }

  /** name -> blob id of the session's files, for restoring them on another worker. */
  sessionFiles(sessionId: string): string {
    return `${this.prefix}:session:${sessionId}:files`;
  }
}
