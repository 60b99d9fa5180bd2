import type { PlaygroundProgress } from '../../src/core/playground-store.ts';

/**
 * The live status of running turns, kept in this process's memory: what the memory and SQLite
 * playground stores share (a status lives only as long as the turn and the process, so neither
 * writes it to disk; the Redis store keeps it in Redis for every replica).
 */
export class MemoryProgress {
  private readonly statuses = new Map<string, PlaygroundProgress>();

  progress(threadId: string): Promise<PlaygroundProgress | undefined> {
    return Promise.resolve(this.statuses.get(threadId));
  }

  setProgress(threadId: string, progress: PlaygroundProgress): Promise<void> {
    this.statuses.set(threadId, progress);
    return Promise.resolve();
  }

  /** Clears the status only if it is still the one for `messageId`. */
  clearProgress(threadId: string, messageId: string): Promise<boolean> {
    if (this.statuses.get(threadId)?.messageId !== messageId) return Promise.resolve(false);
    this.statuses.delete(threadId);
    return Promise.resolve(true);
  }
}
