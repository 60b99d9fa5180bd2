import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ExpirySweeper } from '../sqlite/expiry-sweeper.ts';
import { immediateTransaction } from '../sqlite/immediate-transaction.ts';
import { promised } from '../sqlite/promised.ts';
import {
  parseCheckpointMeta,
  type CheckpointMeta,
  type CheckpointStore,
  type LoadedCheckpoint,
} from './checkpoint-store.ts';

/**
 * Checkpoints in the embedded mode's SQLite file: a thread reopened after `npm start`
 * restarted, or after its kernel was reaped, gets its variables back as with Redis.
 */
export class SqliteCheckpointStore implements CheckpointStore {
  private readonly db: DatabaseSync;
  private readonly ttlMs: number;
  private readonly budgetBytes: number;
  private readonly now: () => number;
  private readonly sweeper: ExpirySweeper;
  private readonly upsert: StatementSync;
  private readonly total: StatementSync;
  private readonly oldestOther: StatementSync;
  private readonly remove: StatementSync;
  private readonly selectMeta: StatementSync;
  private readonly selectAll: StatementSync;

  constructor(
    db: DatabaseSync,
    options: { ttlMs: number; budgetBytes: number },
    now: () => number = Date.now,
  ) {
    this.db = db;
    this.ttlMs = options.ttlMs;
    this.budgetBytes = options.budgetBytes;
    this.now = now;
    this.sweeper = new ExpirySweeper(db, 'checkpoints', now);
    this.upsert = db.prepare(
      `INSERT INTO checkpoints (session_id, meta, content, size_bytes, saved_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (session_id) DO UPDATE SET meta = excluded.meta, content = excluded.content,
         size_bytes = excluded.size_bytes, saved_at = excluded.saved_at,
         expires_at = excluded.expires_at`,
    );
    this.total = db.prepare(
      'SELECT COALESCE(SUM(size_bytes), 0) AS bytes FROM checkpoints WHERE expires_at > ?',
    );
    this.oldestOther = db.prepare(
      `SELECT session_id FROM checkpoints WHERE session_id <> ? AND expires_at > ?
       ORDER BY saved_at LIMIT 1`,
    );
    this.remove = db.prepare('DELETE FROM checkpoints WHERE session_id = ?');
    this.selectMeta = db.prepare(
      'SELECT meta FROM checkpoints WHERE session_id = ? AND expires_at > ?',
    );
    this.selectAll = db.prepare(
      'SELECT meta, content FROM checkpoints WHERE session_id = ? AND expires_at > ?',
    );
  }

  save(sessionId: string, content: Buffer, meta: CheckpointMeta): Promise<void> {
    return promised(() => {
      this.sweeper.maybeSweep();
      const now = this.now();
      immediateTransaction(this.db, () => {
        this.upsert.run(
          sessionId,
          JSON.stringify(meta),
          content,
          content.length,
          meta.savedAtMs,
          now + this.ttlMs,
        );
        // Oldest first until the checkpoints fit again; the new one itself always stays.
        while ((this.total.get(now) as { bytes: number }).bytes > this.budgetBytes) {
          const oldest = this.oldestOther.get(sessionId, now) as { session_id: string } | undefined;
          if (oldest === undefined) break;
          this.remove.run(oldest.session_id);
        }
      });
    });
  }

  describe(sessionId: string): Promise<CheckpointMeta | undefined> {
    return promised(() => {
      const row = this.selectMeta.get(sessionId, this.now()) as { meta: string } | undefined;
      return parseCheckpointMeta(row?.meta);
    });
  }

  load(sessionId: string): Promise<LoadedCheckpoint | undefined> {
    return promised(() => {
      const row = this.selectAll.get(sessionId, this.now()) as
        { meta: string; content: Uint8Array } | undefined;
      const meta = parseCheckpointMeta(row?.meta);
      if (row === undefined || meta === undefined) return undefined;
      return { meta, content: Buffer.from(row.content) };
    });
  }

  drop(sessionId: string): Promise<boolean> {
    return promised(() => this.remove.run(sessionId).changes > 0);
  }
}
