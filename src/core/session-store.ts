import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { BlobRef } from './blob-store.ts';
import { cellBlobIds, type CellResult } from './cell-result.ts';

/** A file of the thread: uploaded by someone, or produced by a cell. */
export interface SessionFile {
  readonly name: string;
  readonly blob: BlobRef;
  readonly origin: 'upload' | 'output';
}

/** A cell that ran in the thread, kept for `export`. */
export interface SessionCell {
  readonly code: string;
  readonly result: CellResult;
}

/** Everything sandbot remembers of one thread. */
export interface SessionState {
  readonly key: string;
  /** What the model sees: user, assistant and tool messages (no system message). */
  readonly transcript: readonly ChatCompletionMessageParam[];
  readonly cells: readonly SessionCell[];
  readonly files: readonly SessionFile[];
  readonly updatedAt: number;
}

/**
 * Sessions by thread key, with a time to live: Redis with a TTL, or memory in the embedded
 * mode. Both pass test/integration/session-store.test.ts. Saving a session keeps the blobs it
 * refers to alive at least as long as the session, so what it names can still be fetched.
 */
export interface SessionStore {
  load(key: string): Promise<SessionState | undefined>;
  save(state: SessionState): Promise<void>;
  delete(key: string): Promise<void>;
}

export function emptySession(key: string): SessionState {
  return { key, transcript: [], cells: [], files: [], updatedAt: Date.now() };
}

/** The blobs a session refers to: its files, and its cells' images and files. */
export function sessionBlobIds(state: SessionState): string[] {
  const ids = [
    ...state.files.map((f) => f.blob.id),
    ...state.cells.flatMap((c) => cellBlobIds(c.result)),
  ];
  return [...new Set(ids)];
}
