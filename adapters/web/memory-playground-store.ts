import type { PlaygroundFile, PlaygroundStore } from '../../src/core/playground-store.ts';

/**
 * Bytes of files (uploads, plots, produced files, exports) the playground keeps. Beyond it the
 * oldest files are forgotten, whichever store holds them.
 */
export const FILE_BUDGET_BYTES = 512 * 1024 * 1024;

/**
 * The playground in this process's memory (with REDIS_URL, and in unit tests): files in a map
 * under the byte budget. Threads need no copy here: the ThreadStore's own map is the memory,
 * and nothing outlives the process.
 */
export class MemoryPlaygroundStore implements PlaygroundStore {
  /** Insertion order is age order, which is what eviction needs. */
  private readonly files = new Map<string, PlaygroundFile>();
  private fileBytes = 0;
  private readonly fileBudgetBytes: number;

  constructor(fileBudgetBytes = FILE_BUDGET_BYTES) {
    this.fileBudgetBytes = fileBudgetBytes;
  }

  threads(): readonly unknown[] {
    return [];
  }

  saveThread(): void {
    // The ThreadStore's map already holds the thread; see the class comment.
  }

  addFile(file: PlaygroundFile): void {
    this.files.set(file.id, file);
    this.fileBytes += file.content?.length ?? 0;
    for (const [id, old] of this.files) {
      if (this.fileBytes <= this.fileBudgetBytes || id === file.id) break;
      this.files.delete(id);
      this.fileBytes -= old.content?.length ?? 0;
    }
  }

  file(id: string): PlaygroundFile | undefined {
    return this.files.get(id);
  }
}
