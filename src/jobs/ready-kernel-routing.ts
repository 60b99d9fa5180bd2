import type { Logger } from '../logging/logger.ts';
import type { Redis } from '../redis/connection.ts';

/** How often a worker tells the others how many kernels it has to spare, and reads theirs. */
export const READY_EVERY_MS = 100;
/** A count older than this (by Redis's clock) is from a worker that stopped telling: ignored. */
export const READY_STALE_MS = 1000;

/*
 * Writes this worker's count with Redis's own time (workers' clocks may disagree), keeps the
 * hash from outliving the deployment's workers, and returns Redis's time and every count.
 * ARGV: workerId, ready count, hash TTL in ms. Returns {nowMs, field, value, field, value...}.
 */
const TELL_AND_READ = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. now)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, tostring(now))
return out`;

/** What a worker with every slot busy reports: it cannot take a new session at all. */
export const NO_FREE_SLOT = -1_000_000;

/**
 * A worker's kernels to spare for new sessions: ready kernels minus sessions waiting for one
 * (negative while sessions wait), or NO_FREE_SLOT.
 */
export interface ReadyCount {
  readonly workerId: string;
  readonly spare: number;
  readonly atMs: number;
}

/** The hash's fields ("ready atMs" per worker id), as counts; malformed entries dropped. */
export function parseReadyCounts(flat: readonly string[]): ReadyCount[] {
  const counts: ReadyCount[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const [spare, atMs] = (flat[i + 1] ?? '').split(' ').map(Number);
    const workerId = flat[i] ?? '';
    if (Number.isInteger(spare) && Number.isFinite(atMs)) {
      counts.push({ workerId, spare: spare ?? 0, atMs: atMs ?? 0 });
    }
  }
  return counts;
}

/**
 * The routing policy, pure: a worker with no kernel to spare leaves the shared queue (new
 * sessions, and sessions whose worker is gone) to the others while another live worker has
 * more to spare (a ready kernel, or fewer sessions waiting for one); with a kernel of its
 * own, or as much to spare as anyone, it takes jobs.
 */
export function shouldDefer(
  workerId: string,
  mySpare: number,
  counts: readonly ReadyCount[],
  nowMs: number,
): boolean {
  if (mySpare > 0) return false;
  return counts.some(
    (c) => c.workerId !== workerId && c.spare > mySpare && nowMs - c.atMs < READY_STALE_MS,
  );
}

export interface ReadyKernelRoutingOptions {
  readonly redis: Redis;
  /** The hash of ready counts, one field per worker. */
  readonly key: string;
  readonly workerId: string;
  /** Kernels this worker has to spare for new sessions now (see ReadyCount). */
  readonly spare: () => number;
  /** Told when the worker should stop (true) or go back to (false) taking shared jobs. */
  readonly onDefer: (defer: boolean) => void;
  readonly logger: Logger;
}

/**
 * New sessions prefer the worker with a ready kernel (docs/job-queue.md, "New sessions and
 * ready kernels"): every READY_EVERY_MS each worker writes its spare to one Redis hash and
 * reads the others', in one round trip, and pauses or resumes its consumer of the shared
 * queue by `shouldDefer`. A pause lasts at most until its own pool has a kernel again, so a
 * new session never waits longer than a cold start because of it.
 */
export class ReadyKernelRouting {
  private readonly options: ReadyKernelRoutingOptions;
  private timer: NodeJS.Timeout | undefined;
  #deferring = false;
  /** The counts read last, and Redis's time then. */
  #lastCounts: readonly ReadyCount[] = [];
  #lastReadMs = 0;
  private ticking = false;

  constructor(options: ReadyKernelRoutingOptions) {
    this.options = options;
  }

  /** Whether this worker leaves new sessions to another now. */
  get deferring(): boolean {
    return this.#deferring;
  }

  /**
   * The policy at this moment, for a job in hand: this worker's spare now against the
   * others' as last read (a worker pulling several jobs between two reads).
   */
  deferNow(mySpare: number): boolean {
    return shouldDefer(this.options.workerId, mySpare, this.#lastCounts, this.#lastReadMs);
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), READY_EVERY_MS);
    this.timer.unref();
  }

  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const { redis, key, workerId } = this.options;
      const spare = this.options.spare();
      const reply = (await redis.eval(
        TELL_AND_READ,
        1,
        key,
        workerId,
        spare,
        READY_STALE_MS * 10,
      )) as string[];
      const [now = '0', ...flat] = reply;
      this.#lastCounts = parseReadyCounts(flat);
      this.#lastReadMs = Number(now);
      this.decide(shouldDefer(workerId, spare, this.#lastCounts, this.#lastReadMs));
    } catch (error) {
      // Redis away: take jobs as if alone (the health reporter logs the outage).
      this.options.logger.debug({ err: error }, 'could not exchange ready-kernel counts');
      this.#lastCounts = [];
      this.decide(false);
    } finally {
      this.ticking = false;
    }
  }

  private decide(defer: boolean): void {
    if (defer === this.#deferring) return;
    this.#deferring = defer;
    this.options.onDefer(defer);
  }

  /** Stops telling, and takes this worker's count out at once (a clean shutdown). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.#lastCounts = [];
    this.decide(false);
    await this.options.redis.hdel(this.options.key, this.options.workerId).catch(() => undefined);
  }
}
