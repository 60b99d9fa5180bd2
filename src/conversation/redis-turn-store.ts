import type { Redis } from '../redis/connection.ts';
import {
  TURN_DEDUPE_MS,
  type ClaimedTurn,
  type NewTurn,
  type StoredTurn,
  type TurnProgress,
  type TurnStore,
} from '../core/turn-store.ts';
import { CLAIM, COMPLETE, ENQUEUE, RECORD, RENEW } from './redis-turn-scripts.ts';
import {
  decodeMessage,
  encodeMessage,
  newLeaseToken,
  readProgress,
  recordedProgress,
  turnSortKey,
} from './turn-store-codec.ts';
import { WakeWaiters } from './wake-waiters.ts';

export interface RedisTurnStoreOptions {
  /** How long a turn id is remembered to drop redeliveries. Default TURN_DEDUPE_MS. */
  readonly dedupeMs?: number;
}

/**
 * Durable turns in Redis, for any number of bot processes: a list per thread in platform
 * order, a lease per thread that lives by its TTL (a dead runner's runs out by itself), and
 * Lua scripts for every step that checks a lease and writes (layout in redis-turn-scripts.ts).
 * `waitForWork` listens on a pub/sub channel on its own duplicated connection, opened at the
 * first wait; the connection passed in stays the caller's to close.
 */
export class RedisTurnStore implements TurnStore {
  private readonly redis: Redis;
  private readonly base: string;
  private readonly dedupeMs: number;
  private readonly waiters = new WakeWaiters();
  /** The pub/sub connection, opened at the first wait. */
  private subscriber: Redis | undefined;
  /** Whether `subscriber` listens; pending while it subscribes. */
  private subscribed: Promise<boolean> | undefined;
  /** `seq` as this store last saw it (at a claim, or a wait that found it moved). */
  private seenSeq: number | undefined;
  private closed = false;

  constructor(redis: Redis, prefix: string, options: RedisTurnStoreOptions = {}) {
    this.redis = redis;
    this.base = `${prefix}:turns:`;
    this.dedupeMs = options.dedupeMs ?? TURN_DEDUPE_MS;
  }

  private key(name: string): string {
    return `${this.base}${name}`;
  }

  private get wakeChannel(): string {
    return this.key('wake');
  }

  async enqueue(turn: NewTurn): Promise<boolean> {
    const { sessionKey } = turn.message;
    const added = await this.redis.eval(
      ENQUEUE,
      5,
      this.key(`seen:${turn.turnId}`),
      this.key(`turn:${turn.turnId}`),
      this.key(`thread:${sessionKey}`),
      this.key('ready'),
      this.key('seq'),
      this.dedupeMs,
      sessionKey,
      turn.order,
      turnSortKey(turn.order, turn.turnId),
      encodeMessage(turn.message),
      Date.now(),
      this.wakeChannel,
    );
    return added === 1;
  }

  async claim(runnerId: string, leaseMs: number): Promise<ClaimedTurn | undefined> {
    const token = newLeaseToken(runnerId);
    const reply = (await this.redis.eval(
      CLAIM,
      2,
      this.key('ready'),
      this.key('seq'),
      this.base,
      token,
      Math.ceil(leaseMs),
    )) as [string, string?, string[]?];
    this.noteSeq(Number(reply[0]));
    const fields = reply[2];
    if (fields === undefined) return undefined;
    const turn = readTurn(fields);
    return { turn, lease: token, resumed: (turn.progress.resumes ?? 0) > 0 };
  }

  async renew(claimed: ClaimedTurn, leaseMs: number): Promise<boolean> {
    const renewed = await this.redis.eval(
      RENEW,
      2,
      ...this.leaseKeys(claimed),
      claimed.lease,
      Math.ceil(leaseMs),
    );
    return renewed === 1;
  }

  async record(claimed: ClaimedTurn, progress: TurnProgress): Promise<boolean> {
    const pairs = Object.entries(recordedProgress(progress)).flatMap(([field, value]) => [
      `p:${field}`,
      JSON.stringify(value),
    ]);
    const recorded = await this.redis.eval(
      RECORD,
      2,
      ...this.leaseKeys(claimed),
      claimed.lease,
      ...pairs,
    );
    return recorded === 1;
  }

  async complete(claimed: ClaimedTurn): Promise<boolean> {
    const { sessionKey } = claimed.turn.message;
    const completed = await this.redis.eval(
      COMPLETE,
      5,
      ...this.leaseKeys(claimed),
      this.key(`thread:${sessionKey}`),
      this.key('ready'),
      this.key('seq'),
      claimed.lease,
      sessionKey,
      Date.now(),
      this.wakeChannel,
    );
    return completed === 1;
  }

  async pending(sessionKey: string): Promise<number> {
    return this.redis.zcard(this.key(`thread:${sessionKey}`));
  }

  /**
   * Resolves at once when turns were enqueued or completed since this store's last claim (or
   * when it never claimed), else at the next such change in any process, at `maxWaitMs`, or
   * on abort. A lease running out is not announced: a runner that waits at most its lease
   * length finds a dead runner's turn within two lease lengths. With Redis unreachable the
   * wait lasts its `maxWaitMs`, so a runner's loop does not spin.
   */
  async waitForWork(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted === true) return;
    const woken = this.waiters.wait(maxWaitMs, signal);
    // Not awaited: while Redis is away its commands wait for the reconnect, and the wait must
    // still end at its deadline or abort (a runner stopping then would hang otherwise).
    void this.wakeIfMoved();
    await woken;
  }

  /** Wakes the waiters when `seq` moved since this store last saw it. */
  private async wakeIfMoved(): Promise<void> {
    // Read after subscribing: a change between the caller's claim and now is not missed.
    const seq = (await this.subscribe()) ? await this.readSeq() : undefined;
    if (seq !== undefined && seq !== this.seenSeq) {
      this.noteSeq(seq);
      this.waiters.wakeAll();
    }
  }

  close(): Promise<void> {
    this.closed = true;
    this.waiters.wakeAll();
    // Nothing is in flight on a subscriber worth waiting for: drop it at once.
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    this.subscribed = undefined;
    return Promise.resolve();
  }

  private leaseKeys(claimed: ClaimedTurn): [string, string] {
    return [
      this.key(`lease:${claimed.turn.message.sessionKey}`),
      this.key(`turn:${claimed.turn.turnId}`),
    ];
  }

  private noteSeq(seq: number | undefined): void {
    // Plain assignment, not a maximum: a Redis that lost its data counts from 0 again.
    if (seq !== undefined && !Number.isNaN(seq)) this.seenSeq = seq;
  }

  private async readSeq(): Promise<number | undefined> {
    try {
      return Number((await this.redis.get(this.key('seq'))) ?? '0');
    } catch {
      return undefined;
    }
  }

  /**
   * Whether the wake channel is listened to; false when Redis cannot be reached (the wait
   * then lasts its `maxWaitMs`, and the next wait tries again).
   */
  private subscribe(): Promise<boolean> {
    this.subscribed ??= (async () => {
      const subscriber = this.redis.duplicate();
      this.subscriber = subscriber;
      // A lost connection only delays wake-ups to `maxWaitMs`; ioredis reconnects and
      // subscribes again by itself.
      subscriber.on('error', () => undefined);
      // Only wakes: `seenSeq` moves when a caller claims, so a change nobody waited for
      // still ends the next wait at once.
      subscriber.on('message', () => this.waiters.wakeAll());
      try {
        await subscriber.subscribe(this.wakeChannel);
        return true;
      } catch {
        subscriber.disconnect();
        if (this.subscriber === subscriber) this.subscriber = undefined;
        this.subscribed = undefined;
        return false;
      }
    })();
    return this.subscribed;
  }
}

/** A turn from its hash, as CLAIM returns it (HGETALL's flat field/value list). */
function readTurn(flat: readonly string[]): StoredTurn {
  const hash = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) hash.set(flat[i] ?? '', flat[i + 1] ?? '');
  const progress: Record<string, unknown> = {};
  for (const [field, value] of hash) {
    if (field.startsWith('p:')) progress[field.slice(2)] = JSON.parse(value) as unknown;
  }
  const turnId = (hash.get('member') ?? '').replace(/^\S+ /, '');
  return {
    turnId,
    order: hash.get('order') ?? '',
    message: decodeMessage(hash.get('message') ?? ''),
    enqueuedAt: Number(hash.get('enqueuedAt')),
    progress: readProgress(progress, Number(hash.get('claims'))),
  };
}
