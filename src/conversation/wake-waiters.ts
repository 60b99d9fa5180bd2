/** setTimeout fires at once for delays above this (a signed 32-bit count of ms). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Callers of a store's `waitForWork`, each waiting until a wake-up, its own deadline, or its
 * signal's abort, whichever comes first. Nothing here rejects: a wait only ever ends.
 */
export class WakeWaiters {
  private readonly waiting = new Set<() => void>();

  get size(): number {
    return this.waiting.size;
  }

  wait(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(Math.max(0, maxWaitMs), MAX_TIMER_MS));
      if (signal?.aborted === true) return done();
      signal?.addEventListener('abort', done, { once: true });
      this.waiting.add(done);
    });
  }

  wakeAll(): void {
    for (const done of [...this.waiting]) done();
  }
}
