import type { Redis } from '../redis/connection.ts';
import type { RedisKeys } from './redis-keys.ts';

/** A held session lock expires this long after its last renewal (a worker that died). */
const SESSION_LOCK_MS = 30_000;
/** How often a worker waiting for another of the session's jobs tries again. */
const RETRY_EVERY_MS = 10;

/*
 * Everything a worker asks Redis before a job's cell runs, in one round trip. In order:
 * records the job under this life of the worker (KEYS[1], so a next life can end it if this
 * one dies), reads whether the job was cancelled before it started (KEYS[2]), takes the
 * session's lock unless another of its jobs holds it (KEYS[3]), and only once the lock is
 * held pins the session to this worker (KEYS[4]), returning the previous pin. Repeating it
 * while the lock is held elsewhere is harmless: the record is the same each time.
 * Returns {cancelled 0|1, locked 0|1, previous pin or nil}.
 */
const TAKE_JOB = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local cancelled = redis.call('EXISTS', KEYS[2])
if not redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4], 'NX') then
  return {cancelled, 0, false}
end
local previous = redis.call('SET', KEYS[4], ARGV[5], 'PX', ARGV[6], 'GET')
return {cancelled, 1, previous}`;

const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

export interface TakeJobOptions {
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly workerId: string;
  readonly jobId: string;
  readonly sessionId: string;
  /** The job's entry in the worker's jobs hash: names the life that took it. */
  readonly jobEntry: string;
  /** Session-lock tokens start with this, so a next life can drop this life's locks. */
  readonly lockTokenPrefix: string;
  /** How long the session stays pinned to this worker after this job. */
  readonly sessionIdleMs: number;
}

export interface TakenJob {
  /** The job was cancelled before it started. */
  readonly cancelled: boolean;
  /** The worker the session was pinned to before this job, if any. */
  readonly previousWorker: string | null;
  /**
   * Lets the session go (only if the lock is still ours). The command is written at once,
   * so a command sent after calling it on the same connection runs after it.
   */
  readonly release: () => Promise<void>;
}

/**
 * Takes a job on a worker: waits until no other job of the session runs anywhere, then holds
 * the session, records the job and pins the session here. One round trip when uncontended.
 */
export async function takeJob(options: TakeJobOptions): Promise<TakenJob> {
  const { redis, keys, jobId, sessionId } = options;
  const lockKey = keys.sessionLock(sessionId);
  const token = `${options.lockTokenPrefix}${Math.random().toString(36).slice(2)}`;
  for (;;) {
    const reply = (await redis.eval(
      TAKE_JOB,
      4,
      keys.workerJobs(options.workerId),
      keys.cancelled(jobId),
      lockKey,
      keys.sessionWorker(sessionId),
      jobId,
      options.jobEntry,
      token,
      SESSION_LOCK_MS,
      options.workerId,
      options.sessionIdleMs,
    )) as [number, number, string | null];
    const [cancelled, locked, previous] = reply;
    if (locked === 1) {
      return {
        cancelled: cancelled === 1,
        previousWorker: previous,
        release: holdLock(redis, lockKey, token),
      };
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_EVERY_MS));
  }
}

/** Renews the lock while the job runs; returns its release. */
function holdLock(redis: Redis, key: string, token: string): () => Promise<void> {
  const renew = setInterval(() => void redis.pexpire(key, SESSION_LOCK_MS), SESSION_LOCK_MS / 3);
  return async () => {
    clearInterval(renew);
    // Release only our own lock (compare and delete, atomically).
    await redis.eval(RELEASE_LOCK, 1, key, token);
  };
}
