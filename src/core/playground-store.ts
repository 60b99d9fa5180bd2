/** A file the playground shows: an upload, a plot, a produced file, an export. */
export interface PlaygroundFile {
  readonly id: string;
  readonly name: string;
  readonly mime: string;
  readonly sizeBytes: number;
  /** Undefined for an upload over the size limit: only its size was counted. */
  readonly content: Buffer | undefined;
}

/** The live status of a thread's running turn, keyed by the message the turn answers. */
export interface PlaygroundProgress {
  readonly messageId: string;
  readonly text: string;
}

/**
 * Where the web playground keeps its threads, their files and the live status of their
 * running turns: in memory (tests), in the SQLite file (the embedded mode, so a restarted
 * `npm start` lists its threads again), or in Redis (every bot replica serves the same
 * threads). A thread is an opaque JSON document whose shape is the playground's own. Files
 * share a byte budget beyond which the oldest are forgotten (their links answer 404), so a
 * long-running bot cannot grow without bound; messages and text stay.
 *
 * Asynchronous, because with Redis the store is shared by processes and is the only copy:
 * no replica may answer from a copy of its own.
 */
export interface PlaygroundStore {
  /**
   * Whether other processes write to this store as well (Redis): a thread this process has
   * never seen may then exist all the same.
   */
  readonly shared: boolean;
  /** Every saved thread document, in no particular order. */
  threads(): Promise<readonly unknown[]>;
  thread(id: string): Promise<unknown>;
  /**
   * Changes one thread atomically, whatever other processes do meanwhile: `change` receives
   * the stored document (undefined when there is none) and returns the one to store, or
   * undefined to leave it as it is. It may be called more than once (after a conflicting
   * write), so it must only compute; the document stored last is returned.
   */
  updateThread(id: string, change: (current: unknown) => unknown): Promise<unknown>;
  progress(threadId: string): Promise<PlaygroundProgress | undefined>;
  setProgress(threadId: string, progress: PlaygroundProgress): Promise<void>;
  /** Removes the thread's status if it is this message's; true when it did. */
  clearProgress(threadId: string, messageId: string): Promise<boolean>;
  /** Keeps a file, forgetting the oldest others while the budget is exceeded. */
  addFile(file: PlaygroundFile): Promise<void>;
  file(id: string): Promise<PlaygroundFile | undefined>;
}
