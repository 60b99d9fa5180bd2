import type {
  PlaygroundFile,
  PlaygroundProgress,
  PlaygroundStore,
} from '../../src/core/playground-store.ts';
import { MemoryProgress } from './memory-progress.ts';

/**
 * Bytes of files (uploads, plots, produced files, exports) the playground keeps. Beyond it the
 * oldest files are forgotten, whichever store holds them.
 */
export const FILE_BUDGET_BYTES = 512 * 1024 * 1024;

/**
 * The playground in this process's memory (unit tests, and in-process tests of the adapter):
 * threads as JSON text (so no caller holds a live reference into the store), files in a map
 * under the byte budget. Nothing outlives the process.
 */
export class MemoryPlaygroundStore implements PlaygroundStore {
  readonly shared = false;
  private readonly threadDocs = new Map<string, string>();
  private readonly statuses = new MemoryProgress();
  /** Insertion order is age order, which is what eviction needs. */
  private readonly files = new Map<string, PlaygroundFile>();
  private fileBytes = 0;
  private readonly fileBudgetBytes: number;

  constructor(fileBudgetBytes = FILE_BUDGET_BYTES) {
    this.fileBudgetBytes = fileBudgetBytes;
  }

  threads(): Promise<readonly unknown[]> {
    return Promise.resolve([...this.threadDocs.values()].map((doc) => JSON.parse(doc) as unknown));
  }

  thread(id: string): Promise<unknown> {
    const doc = this.threadDocs.get(id);
    return Promise.resolve(doc === undefined ? undefined : (JSON.parse(doc) as unknown));
  }

  updateThread(id: string, change: (current: unknown) => unknown): Promise<unknown> {
    // One process, and nothing awaited between the read and the write: already atomic.
    const doc = this.threadDocs.get(id);
    const current = doc === undefined ? undefined : (JSON.parse(doc) as unknown);
    const next = change(current);
    if (next === undefined) return Promise.resolve(current);
    this.threadDocs.set(id, JSON.stringify(next));
    return Promise.resolve(next);
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
    this.files.set(file.id, file);
    this.fileBytes += file.content?.length ?? 0;
    for (const [id, old] of this.files) {
      if (this.fileBytes <= this.fileBudgetBytes || id === file.id) break;
      this.files.delete(id);
      this.fileBytes -= old.content?.length ?? 0;
    }
    return Promise.resolve();
  }

  file(id: string): Promise<PlaygroundFile | undefined> {
    return Promise.resolve(this.files.get(id));
  }
}
