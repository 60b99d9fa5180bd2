import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type {
  PlaygroundFile,
  PlaygroundProgress,
  PlaygroundStore,
} from '../../src/core/playground-store.ts';
import { FILE_BUDGET_BYTES } from './memory-playground-store.ts';
import { MemoryProgress } from './memory-progress.ts';
import { immediateTransaction } from '../../src/sqlite/immediate-transaction.ts';

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
 * `npm start` lists the threads with their messages, images and files. The live status of a
 * running turn stays in memory: a turn resumed after a restart shows its own again.
 *
 * Once the adapter has stopped and closed the file, a turn still finishing writes nothing
 * rather than failing: the process is on its way out.
 */
export class SqlitePlaygroundStore implements PlaygroundStore {
  // `sandbot chat` opens the same file, but it has no playground: this process is the writer.
  readonly shared = false;
  private readonly db: DatabaseSync;
  private readonly fileBudgetBytes: number;
  private readonly statuses = new MemoryProgress();
  private readonly statements: Record<
    | 'threads'
    | 'thread'
    | 'saveThread'
    | 'insertFile'
    | 'file'
    | 'storedBytes'
    | 'oldest'
    | 'forget',
    StatementSync
  >;

  constructor(db: DatabaseSync, fileBudgetBytes = FILE_BUDGET_BYTES) {
    this.db = db;
    this.fileBudgetBytes = fileBudgetBytes;
    this.statements = {
      threads: db.prepare('SELECT thread FROM playground_threads'),
      thread: db.prepare('SELECT thread FROM playground_threads WHERE id = ?'),
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

  threads(): Promise<readonly unknown[]> {
    if (!this.db.isOpen) return Promise.resolve([]); // see the class comment
    return Promise.resolve(
      this.statements.threads.all().map((row) => JSON.parse(String(row['thread'])) as unknown),
    );
  }

  thread(id: string): Promise<unknown> {
    if (!this.db.isOpen) return Promise.resolve(undefined); // see the class comment
    return Promise.resolve(this.readThread(id));
  }

  updateThread(id: string, change: (current: unknown) => unknown): Promise<unknown> {
    if (!this.db.isOpen) return Promise.resolve(undefined); // see the class comment
    // The read and the write in one transaction: nothing else writes the row in between.
    return Promise.resolve(
      this.transaction(() => {
        const current = this.readThread(id);
        const next = change(current);
        if (next === undefined) return current;
        this.statements.saveThread.run(id, JSON.stringify(next));
        return next;
      }),
    );
  }

  progress(threadId: string): Promise<PlaygroundProgress | undefined> {
    return this.statuses.progress(threadId);
  }

  setProgress(threadId: string, progress: PlaygroundProgress): Promise<void> {
    return this.statuses.setProgress(threadId, progress);
  }

  clearProgress(threadId: string, messageId: string): Promise<boolean> {
    return this.statuses.clearProgress(threadId, messageId);
  }

  addFile(file: PlaygroundFile): Promise<void> {
    if (!this.db.isOpen) return Promise.resolve(); // see the class comment
    this.transaction(() => {
      const { id, name, mime, sizeBytes, content } = file;
      this.statements.insertFile.run(id, name, mime, sizeBytes, content ?? null);
      this.forgetOldest(file.id);
    });
    return Promise.resolve();
  }

  file(id: string): Promise<PlaygroundFile | undefined> {
    if (!this.db.isOpen) return Promise.resolve(undefined); // see the class comment
    const row = this.statements.file.get(id) as FileRow | undefined;
    if (row === undefined) return Promise.resolve(undefined);
    const content =
      row.content === null
        ? undefined
        : Buffer.from(row.content.buffer, row.content.byteOffset, row.content.byteLength);
    return Promise.resolve({
      id: row.id,
      name: row.name,
      mime: row.mime,
      sizeBytes: row.size_bytes,
      content,
    });
  }

  private readThread(id: string): unknown {
    const row = this.statements.thread.get(id);
    return row === undefined ? undefined : (JSON.parse(String(row['thread'])) as unknown);
  }

  private transaction<T>(work: () => T): T {
    return immediateTransaction(this.db, work);
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
