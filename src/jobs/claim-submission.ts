import type { Redis } from '../redis/connection.ts';
import type { RedisKeys } from './redis-keys.ts';

/** One day: long enough for any retry of a submission, short enough to clean itself up. */
const SUBMITTED_TTL_S = 86_400;

/*
 * A submission's questions to Redis in one round trip: claims the job id (KEYS[1]; the first
 * submission wins), reads the session's pin (KEYS[2]) and whether the pinned worker's
 * heartbeat is live. The heartbeat key is built here from ARGV[2] .. worker .. ARGV[3], since
 * the worker is only known inside the script (a single Redis, as BullMQ's own scripts need).
 * Returns {claimed 0|1, live pinned worker or nil}.
 */
const CLAIM_SUBMISSION = `
if not redis.call('SET', KEYS[1], '1', 'EX', ARGV[1], 'NX') then return {0, false} end
local pinned = redis.call('GET', KEYS[2])
if pinned and redis.call('EXISTS', ARGV[2] .. pinned .. ARGV[3]) == 1 then return {1, pinned} end
return {1, false}`;

export interface ClaimedSubmission {
  /** This is the id's first submission: enqueue it (a repeat only follows the first). */
  readonly first: boolean;
  /** The worker the session is pinned to, when its heartbeat is live. */
  readonly liveWorker: string | null;
}

export async function claimSubmission(
  redis: Redis,
  keys: RedisKeys,
  jobId: string,
  sessionId: string,
): Promise<ClaimedSubmission> {
  const [before, after] = keys.heartbeatAround;
  const reply = (await redis.eval(
    CLAIM_SUBMISSION,
    2,
    keys.submitted(jobId),
    keys.sessionWorker(sessionId),
    SUBMITTED_TTL_S,
    before,
    after,
  )) as [number, string | null];
  return { first: reply[0] === 1, liveWorker: reply[1] };
}
