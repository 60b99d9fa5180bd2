/** A file the playground shows: an upload, a plot, a produced file, an export. */
export interface PlaygroundFile {
  readonly id: string;
  readonly name: string;
  readonly mime: string;
  readonly sizeBytes: number;
  /** Undefined for an upload over the size limit: only its size was counted. */
  readonly content: Buffer | undefined;
}

/**
 * Where the web playground keeps its threads and their files: in memory, or (the embedded
 * mode) in the SQLite file, so a restarted `npm start` lists its threads again. A thread is an
 * opaque JSON document whose shape is the playground's own. Files share a byte budget beyond
 * which the oldest are forgotten (their links answer 404), so a long-running bot cannot grow
 * without bound; messages and text stay.
 *
 * Synchronous, as the playground's model is: the embedded SQLite answers a keyed read or
 * write in microseconds, and a Redis deployment keeps the playground in memory.
 */
export interface PlaygroundStore {
  /** Every saved thread document, in no particular order. */
  threads(): readonly unknown[];
  saveThread(id: string, thread: unknown): void;
  /** Keeps a file, forgetting the oldest others while the budget is exceeded. */
  addFile(file: PlaygroundFile): void;
  file(id: string): PlaygroundFile | undefined;
}
