import type {
  ApprovalDecision,
  ApprovalRecord,
  ApprovalStore,
  NewApproval,
} from './approval-store.ts';

/** Approvals of one process (tests of the core, and a bot whose turns are not durable). */
export class MemoryApprovalStore implements ApprovalStore {
  private readonly records = new Map<string, ApprovalRecord>();

  open(approval: NewApproval): Promise<ApprovalRecord> {
    const stored = this.records.get(approval.id) ?? approval;
    this.records.set(approval.id, stored);
    return Promise.resolve(stored);
  }

  get(id: string): Promise<ApprovalRecord | undefined> {
    return Promise.resolve(this.records.get(id));
  }

  posted(id: string, messageId: string): Promise<void> {
    const record = this.records.get(id);
    if (record !== undefined) this.records.set(id, { ...record, messageId });
    return Promise.resolve();
  }

  decide(id: string, decision: ApprovalDecision): Promise<ApprovalRecord | undefined> {
    const record = this.records.get(id);
    if (record === undefined || record.decision !== undefined) return Promise.resolve(record);
    const decided = { ...record, decision };
    this.records.set(id, decided);
    return Promise.resolve(decided);
  }

  close(): Promise<void> {
    this.records.clear();
    return Promise.resolve();
  }
}
