import { createHash, randomUUID } from 'node:crypto';
import type { ApprovalPrompts } from '../core/package-approval.ts';
import type { ReplyAddress } from '../core/reply.ts';
import { parseSessionKey } from '../core/session-key.ts';
import type { ApprovalDecision } from './approval-store.ts';
import {
  mention,
  normalizedName,
  questionText,
  refusalReason,
  type NamedPackage,
} from './package-approval-text.ts';
import type { PackageApprovals } from './package-approvals.ts';
import type { TurnContext, TurnServices } from './turn-context.ts';

/** What an install job answered (its `packages` event), as the approval flow reads it. */
export interface InstallOutcome {
  readonly installed: readonly { readonly name: string; readonly version: string }[];
  /** `offAllowlist`: refused only because SANDBOX_PACKAGES does not name it; `version`
   *  when the worker resolved one. */
  readonly refused: readonly (NamedPackage & {
    readonly reason: string;
    readonly offAllowlist: boolean;
  })[];
}

/**
 * Runs the install job; `approvedPackages` are the names approvers let past the allowlist
 * (a durable turn gives that second job an id of its own, not the first one's).
 */
export type InstallRunner<T extends InstallOutcome> = (
  approvedPackages?: readonly string[],
) => Promise<T>;

/** The outcome, and what approvers said when they were asked. */
export type ApprovedInstall<T extends InstallOutcome> = T & {
  /** Absent when nobody was asked. `text`: "approved by <@U1>", "no answer within 30 minutes"… */
  readonly approval?: { readonly outcome: ApprovalDecision['outcome']; readonly text: string };
};

/** What of a turn the approval flow reads. */
export type ApprovalTurn = Pick<TurnContext, 'message' | 'thread' | 'signal'> & {
  readonly services: Pick<TurnServices, 'approvals'>;
};

/** Where a surface without Approve/Deny buttons says why nobody was asked. */
export const NO_APPROVAL_SURFACE = 'approvals need Slack or Discord';

/**
 * An install (the `install` command or the model's `install_packages`), asking
 * PACKAGE_APPROVERS first when it was refused only for names off the allowlist: the question
 * goes up in the thread with Approve and Deny, the turn waits (durably: see
 * PackageApprovals), then installs with the names approved, or refuses with who denied it or
 * that nobody answered in time.
 */
export async function installWithApproval<T extends InstallOutcome>(
  turn: ApprovalTurn,
  packages: readonly string[],
  install: InstallRunner<T>,
): Promise<ApprovedInstall<T>> {
  let outcome = await install();
  const approvals = turn.services.approvals;
  const platform = parseSessionKey(turn.message.sessionKey)?.platform ?? '';
  if (approvals === undefined || !onlyOffList(outcome)) return outcome;
  const address = turn.thread.address;
  const prompts = address === undefined ? undefined : approvals.prompts(address.surface);
  if (address === undefined || prompts === undefined) {
    // The playground, `sandbot chat`: approvers exist, but nowhere to ask them from here.
    const reason = outcome.refused[0]?.reason ?? 'not on the package list';
    return withReason(outcome, `${reason}; ${NO_APPROVAL_SURFACE}`);
  }
  if (!approvals.enabled(platform)) return outcome;
  const asking = { turn, approvals, prompts, address, packages };
  // A dependency off the list shows only once its parent is approved (the worker asks the
  // index about nothing the list refuses): it is asked about in a round of its own.
  const approved: string[] = [];
  let approval:
    { readonly outcome: ApprovalDecision['outcome']; readonly text: string } | undefined;
  for (let round = 0; round < MAX_ROUNDS && onlyOffList(outcome); round += 1) {
    const offList = outcome.refused.filter((r) => !approved.includes(r.name));
    if (offList.length !== outcome.refused.length) break;
    const { record, shown, text } = await askApprovers(asking, offList);
    if (record.decision.outcome !== 'approved') {
      await approvals.settle(record, `Not installed: ${shown}.`);
      return { ...withReason(outcome, text), approval: { outcome: record.decision.outcome, text } };
    }
    await approvals.settle(record, `${capitalized(shown)}: installing…`);
    approved.push(...record.names);
    outcome = await install([...approved]);
    await approvals.settle(record, approvedText(record.decision, outcome));
    approval = { outcome: 'approved', text };
  }
  return approval === undefined ? outcome : { ...outcome, approval };
}

/** Rounds of questions for one install: its packages, then dependencies found off the list. */
const MAX_ROUNDS = 3;

/** Refused, and only because the list does not name it. */
function onlyOffList(outcome: InstallOutcome): boolean {
  return outcome.refused.length > 0 && outcome.refused.every((r) => r.offAllowlist);
}

/** One question to the approvers, and their decision: as the outcome shows it, and in words. */
async function askApprovers(
  asking: {
    readonly turn: ApprovalTurn;
    readonly approvals: PackageApprovals;
    readonly prompts: ApprovalPrompts;
    readonly address: ReplyAddress;
    readonly packages: readonly string[];
  },
  offList: InstallOutcome['refused'],
) {
  const { turn, approvals, prompts, address, packages } = asking;
  const names = offList.map((r) => r.name);
  const { author } = turn.message;
  const record = await approvals.ask(
    {
      id: approvalId(turn, names),
      sessionKey: turn.message.sessionKey,
      address,
      requester: { id: author.id, name: author.name },
      names,
      text: questionText(author.id, packages, offList),
      expiresAt: Date.now() + approvals.settings.timeoutMs,
    },
    prompts,
    turn.signal,
  );
  const { timeoutMs } = approvals.settings;
  return {
    record,
    shown: refusalReason(record.decision, timeoutMs),
    text: refusalReason(record.decision, timeoutMs, 'name'),
  };
}

function capitalized(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

function withReason<T extends InstallOutcome>(outcome: T, reason: string): T {
  return { ...outcome, refused: outcome.refused.map((r) => ({ ...r, reason })) };
}

/** "Approved by <@U9>: installed foo 1.2, bar 0.3." (or what was still refused). */
function approvedText(decision: ApprovalDecision, outcome: InstallOutcome): string {
  const by = `Approved by ${mention(decision.by?.id ?? '?')}`;
  const installed = outcome.installed.map((p) => `${p.name} ${p.version}`).join(', ');
  const refused = outcome.refused.map((r) => `${r.name} (${r.reason})`).join(', ');
  if (refused === '') return `${by}: installed ${installed || 'nothing new'}.`;
  return `${by}, but not installed: ${refused}.`;
}

/**
 * The same for one request of one message in every run of its turn, so a turn resumed after
 * its process died finds the question it had posted instead of asking again.
 */
function approvalId(turn: ApprovalTurn, names: readonly string[]): string {
  const message = turn.message.messageId ?? randomUUID();
  const sorted = [...names].map(normalizedName).sort().join(',');
  const digest = createHash('sha256')
    .update(`${turn.message.sessionKey}\n${message}\n${sorted}`)
    .digest('hex');
  return `pa-${digest.slice(0, 32)}`;
}
