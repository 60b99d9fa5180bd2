/**
 * Which process runs a turn of which thread, so that a `stop` reaching any bot process
 * interrupts the turn wherever it runs. Implementations: MemoryRunningTurns (one process)
 * and RedisRunningTurns (every bot process on one Redis and prefix). Both pass
 * test/integration/running-turns-contract.test.ts.
 */
export interface RunningTurns {
  /** This process starts a turn of the thread; `end()` the registration when it ends. */
  started(sessionKey: string): Promise<TurnRegistration>;
  /**
   * Tells the process running a turn of the thread to stop it. True when one was running and
   * was told; false when nothing runs there (or its process is gone).
   */
  stop(sessionKey: string): Promise<boolean>;
  /** Releases connections; registrations still open are dropped. */
  close(): Promise<void>;
}

export interface TurnRegistration {
  /** `callback` runs once when a stop reaches this turn; at once if one already has. */
  onStop(callback: () => void): void;
  /** The turn is over: later stops answer false. Never rejects. */
  end(): Promise<void>;
}
