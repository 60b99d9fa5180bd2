import type { ReplyAddress } from './reply.ts';

/**
 * Durable turns: the unit of conversation work, stored so that a bot process that dies in the
 * middle of one leaves it to another process (or to itself after a restart). Open-source
 * BullMQ has no per-group ordering, so turns are not BullMQ jobs: each thread has its own list
 * of turns ordered by the platform's own message order, and at most one runner holds a lease
 * on a thread at a time. A live runner renews its lease; a dead one loses it when it expires,
 * and the next claim of that thread gets the same turn back with the progress it recorded.
 *
 * Implementations: Redis (several bot processes) and SQLite (the embedded default, shared by
 * `npm start` and `sandbot chat` on one machine). Both pass test/integration/turn-store-contract.
 */

/** A file attached to a message, as a reference its adapter can fetch later. */
export interface AttachmentRef {
  readonly name: string;
  readonly sizeBytes: number;
  /**
   * Where the adapter finds it again with its own credentials (a Slack file id, a Discord
   * CDN URL, a playground upload id, a blob id). Never a secret.
   */
  readonly ref: string;
}

/** A message as a turn stores it: serializable, no closures. */
export interface StoredMessage {
  /** `platform:workspace:channel:thread`. */
  readonly sessionKey: string;
  readonly author: { readonly id: string; readonly name: string };
  readonly text: string;
  readonly attachments: readonly AttachmentRef[];
  /** Where the answer goes: the adapter rebuilds the reply from it in any process. */
  readonly reply?: ReplyAddress;
}

export interface NewTurn {
  /**
   * Unique per platform message (for example `slack:T1:C1:1716.000200`); a second enqueue of
   * the same id within the dedupe window is a redelivery and is dropped.
   */
  readonly turnId: string;
  /**
   * The platform's own order of messages in the thread (Slack `ts`, a Discord snowflake, a
   * playground sequence number): turns of one thread run in this order, whatever order their
   * events reached the bot in. Compared as decimal numbers of any length.
   */
  readonly order: string;
  readonly message: StoredMessage;
}

/** What a turn has done so far, recorded as it goes (fields are merged, never cleared). */
export interface TurnProgress {
  /** The platform message showing progress (edited into the answer, or deleted, at the end). */
  readonly progressMessageId?: string;
  /** The code job in flight: a resumed turn follows its events instead of running it again. */
  readonly jobInFlight?: string;
  /** The agent's steps so far (its messages and cells, JSON): a resumed turn goes on from
   *  them instead of asking the model again and running their cells twice. */
  readonly agentSteps?: string;
  /** Set just before the answer is posted: a resumed turn looks for what was posted first. */
  readonly answeringAt?: number;
  /** Set once the answer was posted: a resumed turn only finishes its bookkeeping. */
  readonly answeredAt?: number;
  /** How many times the turn was taken up again after its runner died. */
  readonly resumes?: number;
}

export interface StoredTurn extends NewTurn {
  readonly enqueuedAt: number;
  readonly progress: TurnProgress;
}

/** A turn held by one runner until it completes it or its lease runs out. */
export interface ClaimedTurn {
  readonly turn: StoredTurn;
  /** Opaque proof of the lease; every later call for this turn carries it. */
  readonly lease: string;
  /** True when an earlier runner had taken this turn and died (its lease expired). */
  readonly resumed: boolean;
}

export interface TurnStore {
  /** Adds a turn to its thread's list. False when its id was seen within the dedupe window. */
  enqueue(turn: NewTurn): Promise<boolean>;
  /**
   * The first turn (in platform order) of some thread nobody holds, leased to `runnerId` for
   * `leaseMs`; undefined when there is none. Different threads can be claimed by different
   * runners at once; one thread never by two.
   */
  claim(runnerId: string, leaseMs: number): Promise<ClaimedTurn | undefined>;
  /** Extends the lease; false when it was lost (expired and taken by another runner). */
  renew(claimed: ClaimedTurn, leaseMs: number): Promise<boolean>;
  /** Merges progress into the turn; false when the lease was lost. */
  record(claimed: ClaimedTurn, progress: TurnProgress): Promise<boolean>;
  /** Removes the turn and releases its thread; false when the lease was lost. */
  complete(claimed: ClaimedTurn): Promise<boolean>;
  /** Turns waiting or running in a thread (to say "queued behind N", and `hasSession`). */
  pending(sessionKey: string): Promise<number>;
  /** Resolves when a turn may be claimable (a new turn, a completion), or after `maxWaitMs`. */
  waitForWork(maxWaitMs: number, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** How long a turn's id is remembered to drop redeliveries: longer than Slack retries. */
export const TURN_DEDUPE_MS = 6 * 60 * 60_000;
