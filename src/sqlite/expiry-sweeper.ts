import type { DatabaseSync, StatementSync } from 'node:sqlite';

/** Often enough that expired rows never pile up; rarely enough to cost nothing. */
export const SWEEP_INTERVAL_MS = 60_000;

/**
 * Deletes a table's expired rows, at most once per interval, when the store using it is
 * touched. Reads already ignore expired rows, so sweeping only reclaims space; driving it from
 * use rather than a timer leaves nothing to stop at shutdown.
 */
export class ExpirySweeper {
  private readonly sweep: StatementSync;
  private readonly now: () => number;
  private nextSweepAt = 0;

  constructor(db: DatabaseSync, table: string, now: () => number = Date.now) {
    this.sweep = db.prepare(`DELETE FROM ${table} WHERE expires_at <= ?`);
    this.now = now;
  }

  maybeSweep(): void {
    const now = this.now();
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + SWEEP_INTERVAL_MS;
    this.sweep.run(now);
  }
}
