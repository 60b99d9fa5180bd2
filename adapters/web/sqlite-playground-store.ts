import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { PlaygroundFile, PlaygroundStore } from '../../src/core/playground-store.ts';
import { FILE_BUDGET_BYTES } from './memory-playground-store.ts';

interface FileRow {
  readonly id: string;
  readonly name: string;
  readonly mime: string;
  readonly size_bytes: number;
  readonly content: Uint8Array | null;
}

/**
 * The playground in the embedded mode's SQLite file: a row of JSON per thread and a row per
 * file (bytes in a BLOB column), under the same byte budget as in memory. A restarted
 * `npm start` lists the threads with their messages, images and files.
 *
 * Once the adapter has stopped and closed the file, a turn still finishing answers into the
 * page's memory only rather than failing: the process is on its way out.
 */
export class SqlitePlaygroundStore implements PlaygroundStore {
  private readonly db: DatabaseSync;
  private readonly fileBudgetBytes: number;
  private readonly statements: Record<
    'threads' | 'saveThread' | 'insertFile' | 'file' | 'storedBytes' | 'oldest' | 'forget',
    StatementSync
  >;

  constructor(db: DatabaseSync, fileBudgetBytes = FILE_BUDGET_BYTES) {
    this.db = db;
    this.fileBudgetBytes = fileBudgetBytes;
    this.statements = {
      threads: db.prepare('SELECT thread FROM playground_threads'),
      saveThread: db.prepare(
        `INSERT INTO playground_threads (id, thread) VALUES (?, ?)
         ON CONFLICT (id) DO UPDATE SET thread = excluded.thread`,
      ),
      insertFile: db.prepare(
        'INSERT INTO playground_files (id, name, mime, size_bytes, content) VALUES (?, ?, ?, ?, ?)',
      ),
      file: db.prepare(
        'SELECT id, name, mime, size_bytes, content FROM playground_files WHERE id = ?',
      ),
      storedBytes: db.prepare(
        'SELECT coalesce(sum(length(content)), 0) AS bytes FROM playground_files',
      ),
      oldest: db.prepare(
        'SELECT id, length(content) AS bytes FROM playground_files WHERE id != ? ORDER BY seq',
      ),
      forget: db.prepare('DELETE FROM playground_files WHERE id = ?'),
    };
  }

  threads(): readonly unknown[] {
    return this.statements.threads.all().map((row) => JSON.parse(String(row['thread'])) as unknown);
  }

  saveThread(id: string, thread: unknown): void {
    if (!this.db.isOpen) return; // see the class comment
    this.statements.saveThread.run(id, JSON.stringify(thread));
  }

  addFile(file: PlaygroundFile): void {
    if (!this.db.isOpen) return; // see the class comment
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const { id, name, mime, sizeBytes, content } = file;
      this.statements.insertFile.run(id, name, mime, sizeBytes, content ?? null);
      this.forgetOldest(file.id);
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  file(id: string): PlaygroundFile | undefined {
    if (!this.db.isOpen) return undefined; // see the class comment
    const row = this.statements.file.get(id) as FileRow | undefined;
    if (row === undefined) return undefined;
    const content =
      row.content === null
        ? undefined
        : Buffer.from(row.content.buffer, row.content.byteOffset, row.content.byteLength);
    return { id: row.id, name: row.name, mime: row.mime, sizeBytes: row.size_bytes, content };
  }

  /** Oldest first until the files fit the budget again; the new file itself always stays. */
  private forgetOldest(newId: string): void {
    let bytes = Number(this.statements.storedBytes.get()?.['bytes'] ?? 0);
    if (bytes <= this.fileBudgetBytes) return;
    // Read first, delete after: rows are not removed under a running SELECT.
    for (const row of this.statements.oldest.all(newId)) {
      this.statements.forget.run(String(row['id']));
      bytes -= Number(row['bytes'] ?? 0);
      if (bytes <= this.fileBudgetBytes) return;
    }
  }
}
