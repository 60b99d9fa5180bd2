import type { BlobStore } from '../core/blob-store.ts';
import { sessionBlobIds, type SessionState, type SessionStore } from '../core/session-store.ts';

/** The embedded mode's session store: a map with expiry. */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, { state: SessionState; expiresAt: number }>();
  private readonly ttlMs: number;
  /** Where the session's images and files live; kept alive as long as the session. */
  private readonly blobs: Pick<BlobStore, 'touch'>;
  private readonly now: () => number;

  constructor(ttlMs: number, blobs: Pick<BlobStore, 'touch'>, now: () => number = Date.now) {
    this.ttlMs = ttlMs;
    this.blobs = blobs;
    this.now = now;
  }

  load(key: string): Promise<SessionState | undefined> {
    const entry = this.sessions.get(key);
    if (entry === undefined || entry.expiresAt <= this.now()) {
      this.sessions.delete(key);
      return Promise.resolve(undefined);
    }
    // A deep copy, as Redis would give: callers cannot change stored state by accident.
    return Promise.resolve(structuredClone(entry.state));
  }

  async save(state: SessionState): Promise<void> {
    await this.blobs.touch(sessionBlobIds(state), this.ttlMs);
    this.sessions.set(state.key, {
      state: structuredClone(state),
      expiresAt: this.now() + this.ttlMs,
    });
  }

  delete(key: string): Promise<void> {
    this.sessions.delete(key);
    return Promise.resolve();
  }
}
