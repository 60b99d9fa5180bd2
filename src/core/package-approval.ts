import type { ReplyAddress } from './reply.ts';

/**
 * Approve/Deny for packages off the allowlist (PACKAGE_APPROVERS; docs/production.md,
 * "Approving packages"): the core asks in the thread through its surface and waits, as
 * durable turn state, for a press that may reach any bot process.
 */

/** What the surface shows: the question, and the id its two buttons carry. */
export interface ApprovalQuestion {
  /** The pending approval's id, at most 40 characters of [A-Za-z0-9-]. */
  readonly id: string;
  /** Who wants what, Markdown with the platform's mentions. */
  readonly text: string;
}

/** A surface's Approve/Deny message, usable from any bot process (replies are by address). */
export interface ApprovalPrompts {
  /** Posts the question with Approve and Deny buttons where `address` answers; resolves with
   *  the posted message's id. */
  ask(address: ReplyAddress, question: ApprovalQuestion): Promise<string>;
  /** Replaces that message's buttons with the outcome, under the question as it was asked. */
  settle(
    address: ReplyAddress,
    messageId: string,
    text: { readonly question: string; readonly outcome: string },
  ): Promise<void>;
}

/** A press of Approve or Deny, as the adapter that received it hands it to the core. */
export interface ApprovalPress {
  readonly approvalId: string;
  readonly approve: boolean;
  readonly platform: string;
  /** `groups` as ALLOWED_USERS names them after the platform (`role:<id>`, `group:S…`). */
  readonly user: {
    readonly id: string;
    readonly name: string;
    readonly groups?: readonly string[];
  };
}

/** The core's answer to a press: `reply`, when present, is for the presser alone. */
export interface ApprovalPressAnswer {
  readonly reply?: string;
}
