import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { LocalTurns, whenAborted } from '../core/local-turns.ts';
import type { RunningTurns, TurnRegistration } from '../core/running-turns.ts';
import type { Redis } from './connection.ts';

/*
 * Layout, under the deployment's prefix:
 *   <prefix>:running-turn:<sessionKey>   the id of the process running a turn of the thread,
 *                                        with a TTL its owner renews while the turn runs
 *   <prefix>:running-turn-stop:<process> the channel that process listens on for stops
 * A channel per process, so PUBLISH's count of receivers says whether the owner is still
 * there to hear it: a process that died leaves an entry for at most one TTL, but nobody
 * listening on its channel, and a stop answers false at once.
 */

/** KEYS[1]: the thread's entry. ARGV: the channel prefix, the session key. Receivers. */
const STOP = `
local owner = redis.call('GET', KEYS[1])
if not owner then return 0 end
return redis.call('PUBLISH', ARGV[1] .. owner, ARGV[2])`;

/**
 * KEYS[1]: the entry. ARGV: this process, ttlMs. Sets it again when it is ours or gone (lost
 * to Redis eviction or a restart), never over another process's turn of the thread.
 */
const RENEW = `
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/** KEYS[1]: the entry. ARGV[1]: this process. Deletes it only while it is ours. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** How long a dead process's entry can outlive it; renewed every third of it. */
export const RUNNING_TURN_TTL_MS = 20_000;

export interface RedisRunningTurnsOptions {
  /** The deployment's key prefix (REDIS_PREFIX). */
  readonly prefix: string;
  /** Names this process in the entries it owns. Default: host, pid and a random suffix. */
  readonly processId?: string;
  /** Default RUNNING_TURN_TTL_MS. */
  readonly ttlMs?: number;
}

/**
 * Running turns shared by every bot process on one Redis and prefix: a stop sent to any of
 * them reaches the process running the turn. Listens on its own duplicated connection,
 * opened at the first `started`; the connection passed in stays the caller's to close.
 */
export class RedisRunningTurns implements RunningTurns {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly processId: string;
  private readonly ttlMs: number;
  private readonly local = new LocalTurns();
  private readonly renewals = new Set<NodeJS.Timeout>();
  private subscriber: Redis | undefined;
  private subscribed: Promise<void> | undefined;

  constructor(redis: Redis, options: RedisRunningTurnsOptions) {
    this.redis = redis;
    this.prefix = options.prefix;
    this.processId =
      options.processId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.ttlMs = options.ttlMs ?? RUNNING_TURN_TTL_MS;
  }

  async started(sessionKey: string): Promise<TurnRegistration> {
    // Listening before the entry exists, so no stop can find the entry and miss this process.
    await this.subscribe();
    const turn = this.local.add(sessionKey);
    const key = this.entry(sessionKey);
    try {
      await this.redis.set(key, this.processId, 'PX', this.ttlMs);
    } catch (error) {
      turn.remove();
      throw error;
    }
    let renewing: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      // A failed renewal is retried at the next tick; the entry lives a whole TTL meanwhile.
      renewing = this.redis.eval(RENEW, 1, key, this.processId, this.ttlMs).catch(() => 0);
    }, this.ttlMs / 3);
    timer.unref();
    this.renewals.add(timer);
    let ended: Promise<void> | undefined;
    const end = async (): Promise<void> => {
      clearInterval(timer);
      this.renewals.delete(timer);
      await renewing;
      // Another turn of the thread still running here keeps the entry.
      if (!turn.remove()) return;
      // Should this fail, the entry expires by itself and nobody listens for it any more.
      await this.redis.eval(RELEASE, 1, key, this.processId).catch(() => 0);
    };
    return {
      onStop: (callback) => whenAborted(turn.signal, callback),
      end: () => (ended ??= end()),
    };
  }

  async stop(sessionKey: string): Promise<boolean> {
    const receivers = (await this.redis.eval(
      STOP,
      1,
      this.entry(sessionKey),
      `${this.prefix}:running-turn-stop:`,
      sessionKey,
    )) as number;
    return receivers > 0;
  }

  close(): Promise<void> {
    for (const timer of this.renewals) clearInterval(timer);
    this.renewals.clear();
    this.local.clear();
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    this.subscribed = undefined;
    return Promise.resolve();
  }

  private entry(sessionKey: string): string {
    return `${this.prefix}:running-turn:${sessionKey}`;
  }

  private subscribe(): Promise<void> {
    this.subscribed ??= (async () => {
      const subscriber = this.redis.duplicate();
      this.subscriber = subscriber;
      // ioredis reconnects and subscribes again by itself; meanwhile stops answer false.
      subscriber.on('error', () => undefined);
      subscriber.on('message', (_channel: string, sessionKey: string) => {
        this.local.stop(sessionKey);
      });
      try {
        await subscriber.subscribe(`${this.prefix}:running-turn-stop:${this.processId}`);
      } catch (error) {
        subscriber.disconnect();
        if (this.subscriber === subscriber) this.subscriber = undefined;
        this.subscribed = undefined;
        throw error;
      }
    })();
    return this.subscribed;
  }
}
