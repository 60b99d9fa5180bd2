import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { BlobRef } from '../blobs/blob-store.ts';
import type { JobEvent } from '../jobs/job.ts';

/** A file of the thread: uploaded by someone, or produced by a cell. */
export interface SessionFile {
  readonly name: string;
  readonly blob: BlobRef;
  readonly origin: 'upload' | 'output';
}

/** A cell that ran in the thread, kept for `export`. */
export interface SessionCell {
  readonly code: string;
  readonly events: readonly JobEvent[];
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
 * mode. Both pass test/integration/session-store.test.ts.
 */
export interface SessionStore {
  load(key: string): Promise<SessionState | undefined>;
  save(state: SessionState): Promise<void>;
  delete(key: string): Promise<void>;
}

export function emptySession(key: string): SessionState {
  return { key, transcript: [], cells: [], files: [], updatedAt: Date.now() };
}
