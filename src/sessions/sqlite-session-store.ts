import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { BlobStore } from '../core/blob-store.ts';
import { sessionBlobIds, type SessionState, type SessionStore } from '../core/session-store.ts';
import { ExpirySweeper } from '../sqlite/expiry-sweeper.ts';
import { promised } from '../sqlite/promised.ts';
import { upgradeSession } from './legacy-session.ts';

/**
 * The embedded mode's sessions: one row of JSON per thread in the SQLite file, expiring after
 * the session TTL, so a restarted bot (or the next `sandbot chat --session X`) continues the
 * thread. The same JSON as Redis stores, so the legacy shapes are read the same way.
 */
export class SqliteSessionStore implements SessionStore {
  private readonly ttlMs: number;
  /** Where the session's images and files live; kept alive as long as the session. */
  private readonly blobs: Pick<BlobStore, 'put' | 'touch'>;
  private readonly now: () => number;
  private readonly sweeper: ExpirySweeper;
  private readonly statements: Record<'select' | 'upsert' | 'remove', StatementSync>;

  constructor(
    db: DatabaseSync,
    ttlMs: number,
    blobs: Pick<BlobStore, 'put' | 'touch'>,
    now: () => number = Date.now,
  ) {
    this.ttlMs = ttlMs;
    this.blobs = blobs;
    this.now = now;
    this.sweeper = new ExpirySweeper(db, 'sessions', now);
    this.statements = {
      select: db.prepare('SELECT state FROM sessions WHERE key = ? AND expires_at > ?'),
      upsert: db.prepare(
        `INSERT INTO sessions (key, state, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at`,
      ),
      remove: db.prepare('DELETE FROM sessions WHERE key = ?'),
    };
  }

  async load(key: string): Promise<SessionState | undefined> {
    const row = await promised(
      () => this.statements.select.get(key, this.now()) as { state: string } | undefined,
    );
    if (row === undefined) return undefined;
    return upgradeSession(JSON.parse(row.state) as SessionState, this.blobs);
  }

  async save(state: SessionState): Promise<void> {
    // Blobs first: a session is never stored naming a blob that expires before it.
    await this.blobs.touch(sessionBlobIds(state), this.ttlMs);
    await promised(() => {
      this.sweeper.maybeSweep();
      this.statements.upsert.run(state.key, JSON.stringify(state), this.now() + this.ttlMs);
    });
  }

  delete(key: string): Promise<void> {
    return promised(() => void this.statements.remove.run(key));
  }
}
