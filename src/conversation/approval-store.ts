import type { ReplyAddress } from '../core/reply.ts';

/**
 * Pending package approvals (PACKAGE_APPROVERS), durable beside the turns: a turn that asked
 * waits on its record, a press in any bot process decides it, and a turn resumed after its
 * process died finds the question it had already posted. Implementations: memory (one
 * process), Redis, SQLite (the embedded file); all pass
 * test/integration/package-approval-store.test.ts.
 */

export type ApprovalOutcome = 'approved' | 'denied' | 'expired' | 'cancelled';

export interface ApprovalDecision {
  readonly outcome: ApprovalOutcome;
  /** Who pressed (approved, denied); absent for expired and cancelled. */
  readonly by?: { readonly id: string; readonly name: string };
  readonly at: number;
}

export interface NewApproval {
  /** Stable for one request of one turn, so a resumed turn finds it again. */
  readonly id: string;
  readonly sessionKey: string;
  /** Where the question was asked: the outcome replaces its buttons from any process. */
  readonly address: ReplyAddress;
  readonly requester: { readonly id: string; readonly name: string };
  /** The names to let past the allowlist when approved (the job's `approvedPackages`). */
  readonly names: readonly string[];
  /** The question as posted. */
  readonly text: string;
  /** After this (ms since the epoch) it is no longer waiting: an unanswered one expires. */
  readonly expiresAt: number;
}

export interface ApprovalRecord extends NewApproval {
  /** The question's message, once posted. */
  readonly messageId?: string;
  /** The first decision recorded; a later one changes nothing. */
  readonly decision?: ApprovalDecision;
}

export interface ApprovalStore {
  /** Stores a new approval, or returns the one already stored under its id (a resumed turn). */
  open(approval: NewApproval): Promise<ApprovalRecord>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  /** Records the question's message. */
  posted(id: string, messageId: string): Promise<void>;
  /**
   * Records the decision unless one was recorded first; resolves with the record as stored
   * afterwards (its `decision` is whichever came first), or undefined when it is unknown.
   */
  decide(id: string, decision: ApprovalDecision): Promise<ApprovalRecord | undefined>;
  close(): Promise<void>;
}

/** A decided record is kept this long past its expiry, so a late press is answered sensibly. */
export const APPROVAL_KEEP_MS = 24 * 60 * 60_000;

/** The record's JSON fields checked again on the way back from a store. */
export function parseApproval(
  request: string,
  messageId: string | null | undefined,
  decision: string | null | undefined,
): ApprovalRecord {
  const parsed = JSON.parse(request) as NewApproval;
  return {
    ...parsed,
    ...(messageId === null || messageId === undefined ? {} : { messageId }),
    ...(decision === null || decision === undefined
      ? {}
      : { decision: JSON.parse(decision) as ApprovalDecision }),
  };
}
