/** One turn registered in this process: stopped at most once, by whoever reaches it. */
export interface LocalTurn {
  readonly signal: AbortSignal;
  /** Forgets the turn; true when it was the last one of its thread here. */
  remove(): boolean;
}

/**
 * The turns this process runs, by thread: what a stop reaching this process aborts. More than
 * one turn of a thread at once is allowed (a stop aborts all of them), so that two
 * overlapping registrations never leave one unstoppable.
 */
export class LocalTurns {
  private readonly turns = new Map<string, Set<AbortController>>();

  add(sessionKey: string): LocalTurn {
    const controller = new AbortController();
    let lane = this.turns.get(sessionKey);
    if (lane === undefined) {
      lane = new Set();
      this.turns.set(sessionKey, lane);
    }
    lane.add(controller);
    return {
      signal: controller.signal,
      remove: () => {
        const current = this.turns.get(sessionKey);
        if (current?.delete(controller) !== true) return false;
        if (current.size > 0) return false;
        this.turns.delete(sessionKey);
        return true;
      },
    };
  }

  /** Aborts every turn of the thread here; true when there was one. */
  stop(sessionKey: string): boolean {
    const lane = this.turns.get(sessionKey);
    if (lane === undefined || lane.size === 0) return false;
    for (const controller of lane) controller.abort();
    return true;
  }

  /** Forgets every turn without stopping it (their process is shutting down). */
  clear(): void {
    this.turns.clear();
  }
}

/** `callback` once `signal` aborts, or at once if it already has. */
export function whenAborted(signal: AbortSignal, callback: () => void): void {
  if (signal.aborted) callback();
  else signal.addEventListener('abort', callback, { once: true });
}
