import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { promised } from '../sqlite/promised.ts';
import {
  APPROVAL_KEEP_MS,
  parseApproval,
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalStore,
  type NewApproval,
} from './approval-store.ts';

/** Its own table, created here: other stores share the file, the name says whose it is. */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS package_approvals (
  id TEXT PRIMARY KEY,
  request TEXT NOT NULL,
  message_id TEXT,
  decision TEXT,
  keep_until INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS package_approvals_by_keep ON package_approvals (keep_until);`;

interface Row {
  readonly request: string;
  readonly message_id: string | null;
  readonly decision: string | null;
}

/** The embedded mode's approvals, in the SQLite file: a restart of the bot forgets none. */
export class SqliteApprovalStore implements ApprovalStore {
  private readonly statements: Readonly<
    Record<'insert' | 'select' | 'posted' | 'decide' | 'sweep', StatementSync>
  >;
  private readonly now: () => number;

  constructor(db: DatabaseSync, now: () => number = Date.now) {
    this.now = now;
    db.exec(SCHEMA);
    this.statements = {
      insert: db.prepare(
        'INSERT INTO package_approvals (id, request, keep_until) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING',
      ),
      select: db.prepare(
        'SELECT request, message_id, decision FROM package_approvals WHERE id = ? AND keep_until > ?',
      ),
      posted: db.prepare('UPDATE package_approvals SET message_id = ? WHERE id = ?'),
      // One statement: of two processes deciding at once, the first write wins.
      decide: db.prepare(
        'UPDATE package_approvals SET decision = ? WHERE id = ? AND decision IS NULL',
      ),
      sweep: db.prepare('DELETE FROM package_approvals WHERE keep_until <= ?'),
    };
  }

  async open(approval: NewApproval): Promise<ApprovalRecord> {
    await promised(() => {
      this.statements.sweep.run(this.now());
      this.statements.insert.run(
        approval.id,
        JSON.stringify(approval),
        approval.expiresAt + APPROVAL_KEEP_MS,
      );
    });
    return (await this.get(approval.id)) ?? approval;
  }

  get(id: string): Promise<ApprovalRecord | undefined> {
    return promised(() => {
      const row = this.statements.select.get(id, this.now()) as Row | undefined;
      return row === undefined
        ? undefined
        : parseApproval(row.request, row.message_id, row.decision);
    });
  }

  async posted(id: string, messageId: string): Promise<void> {
    await promised(() => this.statements.posted.run(messageId, id));
  }

  async decide(id: string, decision: ApprovalDecision): Promise<ApprovalRecord | undefined> {
    await promised(() => this.statements.decide.run(JSON.stringify(decision), id));
    return this.get(id);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
