import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { z } from 'zod';
import type { BlobRef } from '../core/blob-store.ts';
import { ExpirySweeper } from '../sqlite/expiry-sweeper.ts';
import { promised } from '../sqlite/promised.ts';
import type { SessionFiles } from './job-executor.ts';

const blobRef = z.object({
  id: z.string(),
  name: z.string(),
  mime: z.string(),
  sizeBytes: z.number(),
});

/**
 * A session's files (name -> BlobRef) in the embedded mode's SQLite file, living as long as
 * the session: a kernel started by the next `sandbot chat --session` or after `npm start`
 * restarts gets them back, as a worker taking over a session does with Redis.
 */
export class SqliteSessionFiles implements SessionFiles {
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly sweeper: ExpirySweeper;
  private readonly upsert: StatementSync;
  private readonly select: StatementSync;

  constructor(db: DatabaseSync, ttlMs: number, now: () => number = Date.now) {
    this.ttlMs = ttlMs;
    this.now = now;
    this.sweeper = new ExpirySweeper(db, 'session_files', now);
    this.upsert = db.prepare(
      `INSERT INTO session_files (session_id, name, blob, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (session_id, name) DO UPDATE SET blob = excluded.blob,
         expires_at = excluded.expires_at`,
    );
    this.select = db.prepare(
      'SELECT blob FROM session_files WHERE session_id = ? AND expires_at > ? ORDER BY name',
    );
  }

  remember(sessionId: string, name: string, blob: BlobRef): Promise<void> {
    return promised(() => {
      this.sweeper.maybeSweep();
      this.upsert.run(sessionId, name, JSON.stringify(blob), this.now() + this.ttlMs);
    });
  }

  list(sessionId: string): Promise<BlobRef[]> {
    return promised(() => {
      const rows = this.select.all(sessionId, this.now()) as { blob: string }[];
      return rows.flatMap((row) => {
        const parsed = blobRef.safeParse(JSON.parse(row.blob));
        return parsed.success ? [parsed.data] : [];
      });
    });
  }
}
