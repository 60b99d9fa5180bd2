import { randomUUID } from 'node:crypto';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Blob, BlobRef, BlobStore, BlobStoreLimits } from '../core/blob-store.ts';
import { ExpirySweeper } from '../sqlite/expiry-sweeper.ts';
import { promised } from '../sqlite/promised.ts';
import { tooLarge } from './memory-blob-store.ts';

interface BlobRow {
  readonly id: string;
  readonly name: string;
  readonly mime: string;
  readonly size_bytes: number;
  readonly content: Uint8Array;
}

/**
 * The embedded mode's blobs: rows of the SQLite file with their bytes in a BLOB column and an
 * expiry, so uploads and outputs survive a restart of the bot and every process sharing the
 * file (`npm start`, `sandbot chat`) sees them.
 */
export class SqliteBlobStore implements BlobStore {
  private readonly limits: BlobStoreLimits;
  private readonly now: () => number;
  private readonly sweeper: ExpirySweeper;
  private readonly statements: Record<'insert' | 'select' | 'remove' | 'extend', StatementSync>;

  constructor(db: DatabaseSync, limits: BlobStoreLimits, now: () => number = Date.now) {
    this.limits = limits;
    this.now = now;
    this.sweeper = new ExpirySweeper(db, 'blobs', now);
    this.statements = {
      insert: db.prepare(
        'INSERT INTO blobs (id, name, mime, size_bytes, content, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      select: db.prepare(
        'SELECT id, name, mime, size_bytes, content FROM blobs WHERE id = ? AND expires_at > ?',
      ),
      remove: db.prepare('DELETE FROM blobs WHERE id = ?'),
      // Never shortens a life, and a blob already expired stays gone.
      extend: db.prepare(
        'UPDATE blobs SET expires_at = max(expires_at, ?) WHERE id = ? AND expires_at > ?',
      ),
    };
  }

  put(content: Buffer, meta: { name: string; mime: string }): Promise<BlobRef> {
    return promised(() => this.putNow(content, meta));
  }

  private putNow(content: Buffer, meta: { name: string; mime: string }): BlobRef {
    if (content.length > this.limits.maxBlobBytes)
      throw tooLarge(content.length, this.limits.maxBlobBytes);
    this.sweeper.maybeSweep();
    const ref: BlobRef = {
      id: randomUUID(),
      name: meta.name,
      mime: meta.mime,
      sizeBytes: content.length,
    };
    const expiresAt = this.now() + this.limits.ttlMs;
    this.statements.insert.run(ref.id, ref.name, ref.mime, ref.sizeBytes, content, expiresAt);
    return ref;
  }

  get(id: string): Promise<Blob | undefined> {
    return promised(() => {
      const row = this.statements.select.get(id, this.now()) as BlobRow | undefined;
      if (row === undefined) return undefined;
      const ref = { id: row.id, name: row.name, mime: row.mime, sizeBytes: row.size_bytes };
      const { buffer, byteOffset, byteLength } = row.content;
      return { ref, content: Buffer.from(buffer, byteOffset, byteLength) };
    });
  }

  delete(id: string): Promise<void> {
    return promised(() => void this.statements.remove.run(id));
  }

  touch(ids: readonly string[], ttlMs: number): Promise<void> {
    return promised(() => {
      const now = this.now();
      const until = now + Math.ceil(ttlMs);
      for (const id of ids) this.statements.extend.run(until, id, now);
    });
  }
}
