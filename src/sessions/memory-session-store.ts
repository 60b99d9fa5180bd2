import type { SessionState, SessionStore } from './session-store.ts';

/** The embedded mode's session store: a map with expiry. */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, { state: SessionState; expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(ttlMs: number, now: () => number = Date.now) {
    this.ttlMs = ttlMs;
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

  save(state: SessionState): Promise<void> {
    this.sessions.set(state.key, {
      state: structuredClone(state),
      expiresAt: this.now() + this.ttlMs,
    });
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.sessions.delete(key);
    return Promise.resolve();
  }
}
