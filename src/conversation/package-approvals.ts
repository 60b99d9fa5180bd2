import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logging/logger.ts';
import type {
  ApprovalPress,
  ApprovalPressAnswer,
  ApprovalPrompts,
} from '../core/package-approval.ts';
import { parseSessionKey } from '../core/session-key.ts';
import { userListed } from './access-policy.ts';
import type {
  ApprovalDecision,
  ApprovalRecord,
  ApprovalStore,
  NewApproval,
} from './approval-store.ts';
import { onlyApproversText, refusalReason } from './package-approval-text.ts';

/** PACKAGE_APPROVERS and PACKAGE_APPROVAL_TIMEOUT_MINUTES, as the core uses them. */
export interface PackageApprovalSettings {
  /** Entries as ALLOWED_USERS writes them; undefined: nobody approves, off-list is refused. */
  readonly approvers: readonly string[] | undefined;
  /** How long a question waits for a press before the install is refused. */
  readonly timeoutMs: number;
}

export interface PackageApprovalsOptions {
  readonly store: ApprovalStore;
  readonly settings: PackageApprovalSettings;
  readonly logger: Logger;
  /** How often a waiting turn reads its record (a press may land in any process). Default
   *  500 ms. */
  readonly pollMs?: number;
}

/**
 * Asking PACKAGE_APPROVERS in the thread and waiting for their press, as durable state: the
 * question is a record in the approval store (Redis or the SQLite file), posted once, decided
 * by the first press in any bot process, expired by whichever waiter sees its time is up.
 */
export class PackageApprovals {
  readonly settings: PackageApprovalSettings;
  private readonly options: PackageApprovalsOptions;
  private readonly pollMs: number;
  /** The Approve/Deny message of each surface of this process, as its adapter offered it. */
  private readonly surfaces = new Map<string, ApprovalPrompts>();

  constructor(options: PackageApprovalsOptions) {
    this.options = options;
    this.settings = options.settings;
    this.pollMs = options.pollMs ?? 500;
  }

  /** Whether anyone on this platform can approve (else off-list names are simply refused). */
  enabled(platform: string): boolean {
    return (this.settings.approvers ?? []).some((entry) => entry.startsWith(`${platform}:`));
  }

  /** The surface's Approve/Deny message; undefined where there is none (the playground). */
  prompts(surface: string): ApprovalPrompts | undefined {
    return this.surfaces.get(surface);
  }

  /** An adapter's Approve/Deny message for the threads of its surface (`ChatAdapter.name`). */
  offer(surface: string, prompts: ApprovalPrompts): void {
    this.surfaces.set(surface, prompts);
  }

  /**
   * Posts the question (unless an earlier run of the turn did) and waits until it is decided,
   * expired, or `signal` stops the turn. Resolves with the decided record.
   */
  async ask(
    approval: NewApproval,
    prompts: ApprovalPrompts,
    signal: AbortSignal,
  ): Promise<ApprovalRecord & { readonly decision: ApprovalDecision }> {
    const { store } = this.options;
    let record = await store.open(approval);
    if (record.messageId === undefined && record.decision === undefined) {
      const messageId = await prompts.ask(approval.address, {
        id: approval.id,
        text: approval.text,
      });
      await store.posted(approval.id, messageId);
      record = { ...record, messageId };
    }
    for (;;) {
      if (record.decision !== undefined) return { ...record, decision: record.decision };
      const leftMs = record.expiresAt - Date.now();
      if (signal.aborted || leftMs <= 0) {
        const outcome = signal.aborted ? 'cancelled' : 'expired';
        // A press at the last moment may win: decide() answers with whichever came first.
        record = (await store.decide(approval.id, { outcome, at: Date.now() })) ?? record;
        if (record.decision === undefined)
          record = { ...record, decision: { outcome, at: Date.now() } };
        continue;
      }
      await sleep(Math.min(this.pollMs, leftMs), undefined, { signal }).catch(() => undefined);
      record = (await store.get(approval.id)) ?? record;
    }
  }

  /** Replaces the question's buttons with `text`; a failure is logged, never thrown. */
  async settle(record: ApprovalRecord, text: string): Promise<void> {
    if (record.messageId === undefined) return;
    const prompts = this.surfaces.get(record.address.surface);
    try {
      await prompts?.settle(record.address, record.messageId, {
        question: record.text,
        outcome: text,
      });
    } catch (error) {
      this.options.logger.warn({ err: error, approval: record.id }, 'could not settle an approval');
    }
  }

  /** A press from any surface of this process: only approvers decide, the first press wins. */
  async press(press: ApprovalPress): Promise<ApprovalPressAnswer> {
    const { store } = this.options;
    const record = await store.get(press.approvalId);
    const platform =
      record === undefined ? undefined : parseSessionKey(record.sessionKey)?.platform;
    if (record === undefined || platform !== press.platform) {
      return { reply: 'This request is no longer waiting for an answer.' };
    }
    const approvers = this.settings.approvers ?? [];
    if (!userListed(approvers, press.platform, press.user.id, press.user.groups ?? [])) {
      return { reply: onlyApproversText(press.platform, approvers) };
    }
    if (record.decision === undefined && Date.now() >= record.expiresAt) {
      return { reply: 'This request has expired; ask again to install.' };
    }
    const decision: ApprovalDecision = {
      outcome: press.approve ? 'approved' : 'denied',
      by: { id: press.user.id, name: press.user.name },
      at: Date.now(),
    };
    const decided = (await store.decide(record.id, decision)) ?? record;
    if (decided.decision?.at !== decision.at || decided.decision.by?.id !== press.user.id) {
      const earlier = decided.decision;
      const what =
        earlier === undefined ? 'answered' : refusalReason(earlier, this.settings.timeoutMs);
      return { reply: `This request was already answered: ${what}.` };
    }
    // The waiting turn shows it (one writer, so its later outcome is never overwritten).
    return {};
  }
}
