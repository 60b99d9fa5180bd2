import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { DELIVERY_WINDOW_MS, type DeliveryGuard } from '../core/delivery-guard.ts';
import { ExpirySweeper } from '../sqlite/expiry-sweeper.ts';
import { promised } from '../sqlite/promised.ts';

/**
 * The embedded mode's dedupe keys, in the SQLite file: a redelivery is dropped even after a
 * restart of the bot, and by any process sharing the file.
 */
export class SqliteDeliveryGuard implements DeliveryGuard {
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly sweeper: ExpirySweeper;
  private readonly claim: StatementSync;

  constructor(db: DatabaseSync, windowMs = DELIVERY_WINDOW_MS, now: () => number = Date.now) {
    this.windowMs = windowMs;
    this.now = now;
    this.sweeper = new ExpirySweeper(db, 'deliveries', now);
    // One statement, so two processes cannot both win: a new id inserts, an expired one is
    // renewed, a live one changes nothing.
    this.claim = db.prepare(
      `INSERT INTO deliveries (id, expires_at) VALUES (?, ?)
       ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at
       WHERE deliveries.expires_at <= ?`,
    );
  }

  firstDelivery(id: string): Promise<boolean> {
    return promised(() => {
      const now = this.now();
      this.sweeper.maybeSweep();
      return Number(this.claim.run(id, now + this.windowMs, now).changes) === 1;
    });
  }
}
