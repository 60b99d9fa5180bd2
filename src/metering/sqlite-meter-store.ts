import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ExpirySweeper } from '../sqlite/expiry-sweeper.ts';
import { immediateTransaction } from '../sqlite/immediate-transaction.ts';
import { promised } from '../sqlite/promised.ts';
import { ttlOf, type MeterEntry, type MeterStore } from './meter-store.ts';
import { PEAK_FIELD, USAGE_FIELDS, usageFrom, type UsageTotals } from './usage-totals.ts';

// Created here rather than in src/sqlite/migrations.ts so the meters stay in one folder;
// idempotent like the migrations, and run at each open.
const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meters (
     scope TEXT NOT NULL,
     period TEXT NOT NULL,
     field TEXT NOT NULL,
     value REAL NOT NULL,
     expires_at INTEGER NOT NULL,
     PRIMARY KEY (scope, period, field)
   ) STRICT`,
  'CREATE INDEX IF NOT EXISTS meters_by_expiry ON meters (expires_at)',
];

/** The embedded mode's usage totals: one row per scope, period and field in the SQLite file. */
export class SqliteMeterStore implements MeterStore {
  private readonly db: DatabaseSync;
  private readonly now: () => number;
  private readonly sweeper: ExpirySweeper;
  private readonly statements: Record<'add' | 'read', StatementSync>;

  constructor(db: DatabaseSync, now: () => number = Date.now) {
    for (const statement of SCHEMA) db.exec(statement);
    this.db = db;
    this.now = now;
    this.sweeper = new ExpirySweeper(db, 'meters', now);
    this.statements = {
      add: db.prepare(
        `INSERT INTO meters (scope, period, field, value, expires_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (scope, period, field) DO UPDATE SET
           value = CASE WHEN field = '${PEAK_FIELD}' THEN max(value, excluded.value)
                        ELSE value + excluded.value END,
           expires_at = excluded.expires_at`,
      ),
      read: db.prepare(
        'SELECT field, value FROM meters WHERE scope = ? AND period = ? AND expires_at > ?',
      ),
    };
  }

  add(entries: readonly MeterEntry[], usage: UsageTotals): Promise<void> {
    const fields = USAGE_FIELDS.filter((f) => usage[f] !== 0);
    if (entries.length === 0 || fields.length === 0) return Promise.resolve();
    return promised(() => {
      this.sweeper.maybeSweep();
      immediateTransaction(this.db, () => {
        for (const entry of entries) {
          const expiresAt = this.now() + ttlOf(entry);
          for (const field of fields) {
            this.statements.add.run(entry.scope, entry.period, field, usage[field], expiresAt);
          }
        }
      });
    });
  }

  async read(entry: MeterEntry): Promise<UsageTotals> {
    const rows = await promised(
      () =>
        this.statements.read.all(entry.scope, entry.period, this.now()) as {
          field: string;
          value: number;
        }[],
    );
    return usageFrom(Object.fromEntries(rows.map((r) => [r.field, r.value])));
  }
}
