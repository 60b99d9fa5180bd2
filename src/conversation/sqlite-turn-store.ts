import { DatabaseSync, type StatementSync } from 'node:sqlite';
import {
  TURN_DEDUPE_MS,
  type ClaimedTurn,
  type NewTurn,
  type StoredTurn,
  type TurnProgress,
  type TurnStore,
} from '../core/turn-store.ts';
import { promised } from '../sqlite/promised.ts';
import { openTurnSchema } from './sqlite-turn-schema.ts';
import {
  decodeMessage,
  encodeMessage,
  newLeaseToken,
  readProgress,
  recordedProgress,
  turnSortKey,
} from './turn-store-codec.ts';
import { WakeWaiters } from './wake-waiters.ts';
import { immediateTransaction } from '../sqlite/immediate-transaction.ts';

/**
 * How often a waiting runner looks for turns enqueued or completed by another process:
 * one indexed read of one row, cheap enough at ten a second, and well inside the time a
 * user notices. Changes made through this store reach its own waiters at once.
 */
export const SQLITE_TURN_POLL_MS = 100;

export interface SqliteTurnStoreOptions {
  /** How long a turn id is remembered to drop redeliveries. Default TURN_DEDUPE_MS. */
  readonly dedupeMs?: number;
  /** Milliseconds since the epoch; leases and the dedupe window are judged by it. */
  readonly now?: () => number;
}

/** The lease is the caller's: its own, or nobody's (null or run out). */
const LEASE_FREE_OR_MINE = `(lease_token = :token OR lease_until IS NULL OR lease_until <= :now)`;

const SQL = {
  forgetExpired: 'DELETE FROM turn_ids_seen WHERE expires_at <= :now',
  seen: `SELECT 1 AS seen FROM turn_ids_seen WHERE turn_id = :turnId
         UNION ALL SELECT 1 FROM turns WHERE turn_id = :turnId`,
  remember: 'INSERT OR REPLACE INTO turn_ids_seen (turn_id, expires_at) VALUES (:turnId, :until)',
  insertTurn: `INSERT INTO turns (turn_id, session_key, sort_key, order_key, message, enqueued_at)
               VALUES (:turnId, :sessionKey, :sortKey, :order, :message, :now)`,
  insertThread: `INSERT INTO turn_threads (session_key, ready_at) VALUES (:sessionKey, :now)
                 ON CONFLICT (session_key) DO NOTHING`,
  bump: 'UPDATE turn_wakeups SET seq = seq + 1 WHERE id = 1',
  seq: 'SELECT seq FROM turn_wakeups WHERE id = 1',
  freeThread: `SELECT session_key FROM turn_threads WHERE lease_until IS NULL OR lease_until <= :now
               ORDER BY ready_at, session_key LIMIT 1`,
  head: 'SELECT turn_id FROM turns WHERE session_key = :sessionKey ORDER BY sort_key LIMIT 1',
  dropThread: 'DELETE FROM turn_threads WHERE session_key = :sessionKey',
  take: `UPDATE turns SET claims = claims + 1, token = :token WHERE turn_id = :turnId
         RETURNING turn_id, order_key, message, enqueued_at, progress, claims`,
  lease: `UPDATE turn_threads SET lease_token = :token, lease_until = :until
          WHERE session_key = :sessionKey`,
  renew: `UPDATE turn_threads SET lease_token = :token, lease_until = :until
          WHERE session_key = :sessionKey AND ${LEASE_FREE_OR_MINE}
            AND EXISTS (SELECT 1 FROM turns WHERE turn_id = :turnId AND token = :token)`,
  record: `UPDATE turns SET progress = json_patch(progress, :patch)
           WHERE turn_id = :turnId AND token = :token AND EXISTS (
             SELECT 1 FROM turn_threads
             WHERE turn_threads.session_key = turns.session_key AND ${LEASE_FREE_OR_MINE})`,
  deleteTurn: `DELETE FROM turns WHERE turn_id = :turnId AND token = :token AND EXISTS (
                 SELECT 1 FROM turn_threads
                 WHERE turn_threads.session_key = turns.session_key AND ${LEASE_FREE_OR_MINE})`,
  count: 'SELECT COUNT(*) AS n FROM turns WHERE session_key = :sessionKey',
  release: `UPDATE turn_threads SET ready_at = :now, lease_token = NULL, lease_until = NULL
            WHERE session_key = :sessionKey`,
} as const;

type Statements = Record<keyof typeof SQL, StatementSync>;

/**
 * Durable turns in one SQLite file (`node:sqlite`), for the embedded default: `npm start` and
 * `sandbot chat` on one machine may share the file, so every check-and-write is one statement
 * or one `BEGIN IMMEDIATE` transaction, leases are expiry times in the file, and a waiting
 * runner polls a change counter every SQLITE_TURN_POLL_MS. Calls are synchronous underneath:
 * while another process holds the write lock (a few ms), this one waits, up to the busy timeout.
 */
export class SqliteTurnStore implements TurnStore {
  private readonly db: DatabaseSync;
  private readonly sql: Statements;
  private readonly dedupeMs: number;
  private readonly now: () => number;
  private readonly waiters = new WakeWaiters();
  private pollTimer: NodeJS.Timeout | undefined;
  /** The change counter as this store last saw it (at a claim or a poll). */
  private seenSeq: number | undefined;
  private closed = false;

  /** Whether `close()` closes the database: only when this store opened it. */
  private readonly ownsDb: boolean;

  /**
   * `database`: a file path (the store opens and owns it), or a database another part of the
   * process opened (src/sqlite/open-database.ts), which stays open when the store closes.
   */
  constructor(database: string | DatabaseSync, options: SqliteTurnStoreOptions = {}) {
    this.ownsDb = typeof database === 'string';
    this.db = typeof database === 'string' ? new DatabaseSync(database) : database;
    try {
      openTurnSchema(this.db);
    } catch (error) {
      if (this.ownsDb) this.db.close();
      throw error;
    }
    this.sql = Object.fromEntries(
      Object.entries(SQL).map(([name, text]) => [name, this.db.prepare(text)]),
    ) as Statements;
    this.dedupeMs = Math.ceil(options.dedupeMs ?? TURN_DEDUPE_MS);
    const clock = options.now ?? Date.now;
    // Whole milliseconds: the columns are STRICT INTEGERs.
    this.now = () => Math.floor(clock());
  }

  enqueue(turn: NewTurn): Promise<boolean> {
    return promised(() => this.enqueueNow(turn));
  }

  claim(runnerId: string, leaseMs: number): Promise<ClaimedTurn | undefined> {
    return promised(() => this.claimNow(runnerId, leaseMs));
  }

  renew(claimed: ClaimedTurn, leaseMs: number): Promise<boolean> {
    return promised(() => {
      const now = this.now();
      const { changes } = this.sql.renew.run({
        ...this.leaseParams(claimed, now),
        sessionKey: claimed.turn.message.sessionKey,
        until: now + Math.ceil(leaseMs),
      });
      return changes === 1;
    });
  }

  record(claimed: ClaimedTurn, progress: TurnProgress): Promise<boolean> {
    return promised(() => {
      const patch = JSON.stringify(recordedProgress(progress));
      const params = { ...this.leaseParams(claimed, this.now()), patch };
      return this.sql.record.run(params).changes === 1;
    });
  }

  complete(claimed: ClaimedTurn): Promise<boolean> {
    return promised(() => this.completeNow(claimed));
  }

  pending(sessionKey: string): Promise<number> {
    return promised(() => Number(this.sql.count.get({ sessionKey })?.n ?? 0));
  }

  private enqueueNow(turn: NewTurn): boolean {
    const sessionKey = turn.message.sessionKey;
    const sortKey = turnSortKey(turn.order, turn.turnId);
    const now = this.now();
    const added = this.transaction(() => {
      this.sql.forgetExpired.run({ now });
      if (this.sql.seen.get({ turnId: turn.turnId }) !== undefined) return false;
      this.sql.remember.run({ turnId: turn.turnId, until: now + this.dedupeMs });
      const message = encodeMessage(turn.message);
      this.sql.insertTurn.run({
        turnId: turn.turnId,
        sessionKey,
        sortKey,
        order: turn.order,
        message,
        now,
      });
      this.sql.insertThread.run({ sessionKey, now });
      this.sql.bump.run();
      return true;
    });
    if (added) this.wakeOwnWaiters();
    return added;
  }

  private claimNow(runnerId: string, leaseMs: number): ClaimedTurn | undefined {
    const token = newLeaseToken(runnerId);
    const now = this.now();
    const claimed = this.transaction(() => {
      this.seenSeq = this.readSeq();
      for (;;) {
        const thread = this.sql.freeThread.get({ now });
        if (thread === undefined) return undefined;
        const sessionKey = String(thread.session_key);
        const head = this.sql.head.get({ sessionKey });
        if (head === undefined) {
          this.sql.dropThread.run({ sessionKey });
          continue;
        }
        const row = this.sql.take.get({ token, turnId: String(head.turn_id) });
        this.sql.lease.run({ token, until: now + Math.ceil(leaseMs), sessionKey });
        return row === undefined ? undefined : readTurn(row);
      }
    });
    if (claimed === undefined) return undefined;
    return { turn: claimed, lease: token, resumed: (claimed.progress.resumes ?? 0) > 0 };
  }

  private completeNow(claimed: ClaimedTurn): boolean {
    const sessionKey = claimed.turn.message.sessionKey;
    const now = this.now();
    const completed = this.transaction(() => {
      const { changes } = this.sql.deleteTurn.run(this.leaseParams(claimed, now));
      if (changes !== 1) return false;
      const left = this.sql.count.get({ sessionKey });
      if (Number(left?.n ?? 0) === 0) this.sql.dropThread.run({ sessionKey });
      else this.sql.release.run({ sessionKey, now });
      this.sql.bump.run();
      return true;
    });
    if (completed) this.wakeOwnWaiters();
    return completed;
  }

  /**
   * Resolves at once when turns were enqueued or completed since this store's last claim (or
   * when it never claimed), else when a poll sees such a change, at `maxWaitMs`, or on
   * abort. A lease running out is not announced: a runner that waits at most its lease
   * length finds a dead runner's turn within two lease lengths.
   */
  async waitForWork(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted === true) return;
    const woken = this.waiters.wait(maxWaitMs, signal);
    this.poll();
    this.pollTimer ??= setInterval(() => this.poll(), SQLITE_TURN_POLL_MS).unref();
    await woken;
    if (this.waiters.size === 0) this.stopPolling();
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.stopPolling();
    this.waiters.wakeAll();
    if (this.ownsDb) this.db.close();
    return Promise.resolve();
  }

  private leaseParams(claimed: ClaimedTurn, now: number): Record<string, string | number> {
    return { turnId: claimed.turn.turnId, token: claimed.lease, now };
  }

  private poll(): void {
    if (this.closed || this.waiters.size === 0) return;
    let seq: number;
    try {
      seq = this.readSeq();
    } catch {
      // Busy past the timeout: the next poll tries again.
      return;
    }
    if (seq !== this.seenSeq) {
      this.seenSeq = seq;
      this.waiters.wakeAll();
    }
  }

  private stopPolling(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  /** Without noting the counter: a runner of this process that did not claim since still sees it. */
  private wakeOwnWaiters(): void {
    this.waiters.wakeAll();
  }

  private readSeq(): number {
    return Number(this.sql.seq.get()?.seq ?? 0);
  }

  private transaction<T>(work: () => T): T {
    return immediateTransaction(this.db, work);
  }
}

function readTurn(row: Record<string, unknown>): StoredTurn {
  const progress = JSON.parse(String(row.progress)) as Record<string, unknown>;
  return {
    turnId: String(row.turn_id),
    order: String(row.order_key),
    message: decodeMessage(String(row.message)),
    enqueuedAt: Number(row.enqueued_at),
    progress: readProgress(progress, Number(row.claims)),
  };
}
