import { randomUUID } from 'node:crypto';
import { SandbotError } from '../core/errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { Redis } from '../redis/connection.ts';
import type { JobDone } from '../core/job.ts';
import { appendDoneOnce } from './redis-event-stream.ts';
import type { RedisKeys } from './redis-keys.ts';

export const HEARTBEAT_EVERY_MS = 1000;
export const HEARTBEAT_TTL_MS = 5000;

/** Set the heartbeat only while it still holds what we last saw (or is gone). */
const TAKE_OVER = `
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`;

/** Delete a key only if its value starts with ARGV[1] (a lock or a beat of one life). */
const DELETE_IF_PREFIX = `
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, string.len(ARGV[1])) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** The end of a job whose worker died running it: never run again, so the kernel is gone. */
export const LOST: JobDone = {
  type: 'done',
  status: 'lost',
  durationMs: 0,
  kernelRestarted: true,
  message: 'the worker running this cell stopped; it was not run again. Run it again to continue',
};

/**
 * One run of a worker process under its WORKER_ID. WORKER_ID defaults to the host name, which
 * a restart keeps (systemd, compose's restart policy), so a new run must tell a dead
 * predecessor — whose callers still wait on the jobs it held — from a live twin. The heartbeat
 * key holds "life beat-time": a live worker changes it every second, a dead one cannot.
 */
export class WorkerLife {
  readonly workerId: string;
  /** Random per process: tells this run's jobs and locks from a previous run's. */
  readonly life = randomUUID();
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: { redis: Redis; keys: RedisKeys; workerId: string; logger: Logger }) {
    this.redis = options.redis;
    this.keys = options.keys;
    this.workerId = options.workerId;
    this.logger = options.logger;
  }

  private get heartbeatKey(): string {
    return this.keys.heartbeat(this.workerId);
  }

  private beatValue(): string {
    return `${this.life} ${Date.now()}`;
  }

  /**
   * Takes the id: refuses (WORKER_ID_IN_USE) while another live process beats under it, then
   * ends every job a previous life left running with one `lost` result. Returns how many.
   */
  async claim(): Promise<number> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const seen = await this.redis.get(this.heartbeatKey);
      if (seen !== null) await this.refuseIfAlive(seen);
      const taken = await this.redis.eval(
        TAKE_OVER,
        1,
        this.heartbeatKey,
        seen ?? '',
        this.beatValue(),
        HEARTBEAT_TTL_MS,
      );
      if (taken === 1) {
        this.timer = setInterval(() => void this.beat(), HEARTBEAT_EVERY_MS);
        return this.endPreviousLives();
      }
    }
    throw idInUse(this.workerId);
  }

  /** A live worker refreshes its beat every second: watch for two intervals and a half. */
  private async refuseIfAlive(seen: string): Promise<void> {
    const until = Date.now() + HEARTBEAT_EVERY_MS * 2.5;
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const now = await this.redis.get(this.heartbeatKey);
      if (now === null) return;
      if (now !== seen) throw idInUse(this.workerId);
    }
  }

  private async beat(): Promise<void> {
    try {
      await this.redis.set(this.heartbeatKey, this.beatValue(), 'PX', HEARTBEAT_TTL_MS);
    } catch (error) {
      // Redis away: the health reporter logs it; the beat resumes when Redis is back.
      this.logger.debug({ err: error }, 'heartbeat failed');
    }
  }

  /**
   * The entry recorded (in the worker's jobs hash, by take-job.ts) for a job this life has
   * taken, before anything of it runs: the life that took it and its session.
   */
  jobEntry(sessionId: string): string {
    return `${this.life} ${sessionId}`;
  }

  async finished(jobId: string): Promise<void> {
    await this.redis.hdel(this.keys.workerJobs(this.workerId), jobId);
  }

  /** Prefix of the session-lock tokens this life writes. */
  get lockTokenPrefix(): string {
    return `${this.workerId}:${this.life}:`;
  }

  private async endPreviousLives(): Promise<number> {
    const jobsKey = this.keys.workerJobs(this.workerId);
    const jobs = await this.redis.hgetall(jobsKey);
    let ended = 0;
    for (const [jobId, value] of Object.entries(jobs)) {
      const [life = '', sessionId = ''] = value.split(' ');
      if (life === this.life) continue;
      if (await appendDoneOnce(this.redis, this.keys.events(jobId), LOST)) ended += 1;
      // Its session lock would otherwise hold the session's next cell for up to 30 s.
      await this.redis.eval(
        DELETE_IF_PREFIX,
        1,
        this.keys.sessionLock(sessionId),
        `${this.workerId}:${life}:`,
      );
      await this.redis.hdel(jobsKey, jobId);
    }
    if (ended > 0) {
      this.logger.warn(
        { endedJobs: ended },
        `a previous run of worker ${this.workerId} stopped while running ${ended} cell(s); their callers were told they were lost`,
      );
    }
    return ended;
  }

  /** Stops beating and lets the id go at once (a clean shutdown). */
  async release(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    // Only if it is still ours: a twin may have taken the id since.
    await this.redis.eval(DELETE_IF_PREFIX, 1, this.heartbeatKey, `${this.life} `);
  }
}

function idInUse(workerId: string): SandbotError {
  return new SandbotError(
    'WORKER_ID_IN_USE',
    `another worker is running as WORKER_ID=${workerId} (its heartbeat in Redis is live). Give each worker its own WORKER_ID (the default is the host name), or stop the other one first`,
  );
}
