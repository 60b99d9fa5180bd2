import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ExpirySweeper } from '../sqlite/expiry-sweeper.ts';
import { promised } from '../sqlite/promised.ts';
import {
  parseSessionPackage,
  type SessionPackage,
  type SessionPackages,
} from './session-packages.ts';

/** A session's packages in the embedded mode's SQLite file, as long as the session lives. */
export class SqliteSessionPackages implements SessionPackages {
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly sweeper: ExpirySweeper;
  private readonly upsert: StatementSync;
  private readonly select: StatementSync;
  private readonly remove: StatementSync;

  constructor(db: DatabaseSync, ttlMs: number, now: () => number = Date.now) {
    this.ttlMs = ttlMs;
    this.now = now;
    // Its own table, made here: nothing else reads it.
    db.exec(
      `CREATE TABLE IF NOT EXISTS session_packages (
         session_id TEXT NOT NULL, name TEXT NOT NULL, entry TEXT NOT NULL,
         expires_at INTEGER NOT NULL, PRIMARY KEY (session_id, name))`,
    );
    this.sweeper = new ExpirySweeper(db, 'session_packages', now);
    this.upsert = db.prepare(
      `INSERT INTO session_packages (session_id, name, entry, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (session_id, name) DO UPDATE SET entry = excluded.entry,
         expires_at = excluded.expires_at`,
    );
    this.select = db.prepare(
      'SELECT entry FROM session_packages WHERE session_id = ? AND expires_at > ? ORDER BY name',
    );
    this.remove = db.prepare('DELETE FROM session_packages WHERE session_id = ?');
  }

  remember(sessionId: string, installed: SessionPackage): Promise<void> {
    return promised(() => {
      this.sweeper.maybeSweep();
      this.upsert.run(
        sessionId,
        installed.name,
        JSON.stringify(installed),
        this.now() + this.ttlMs,
      );
    });
  }

  list(sessionId: string): Promise<SessionPackage[]> {
    return promised(() => {
      const rows = this.select.all(sessionId, this.now()) as { entry: string }[];
      return rows.flatMap((row) => parseSessionPackage(row.entry) ?? []);
    });
  }

  forget(sessionId: string): Promise<void> {
    return promised(() => {
      this.remove.run(sessionId);
    });
  }
}
