import type { ApprovalDecision } from './approval-store.ts';

/** A package as the question and the outcome name it: `foo 1.2`, or `foo` unresolved. */
export interface NamedPackage {
  readonly name: string;
  readonly version?: string;
}

/** Slack and Discord both mention a person as <@id>. */
export function mention(userId: string): string {
  return `<@${userId}>`;
}

function named(item: NamedPackage): string {
  return item.version === undefined ? item.name : `${item.name} ${item.version}`;
}

/** PyPI names compare case-insensitively, with runs of `-`, `_` and `.` alike (PEP 503). */
export function normalizedName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * "<@U1> wants to install foo 1.2 (and its dependency bar 0.3), which is not on this
 * workspace's package list": what was asked for first, then what it pulls in.
 */
export function questionText(
  requesterId: string,
  requested: readonly string[],
  offList: readonly NamedPackage[],
): string {
  const asked = new Set(requested.map(normalizedName));
  const main = offList.filter((p) => asked.has(normalizedName(p.name)));
  const dependencies = offList.filter((p) => !asked.has(normalizedName(p.name)));
  const head = (main.length > 0 ? main : offList).map(named).join(', ');
  const tail =
    main.length === 0 || dependencies.length === 0
      ? ''
      : ` (and its ${dependencies.length === 1 ? 'dependency' : 'dependencies'} ${dependencies.map(named).join(', ')})`;
  const verb = (main.length > 0 ? main : offList).length === 1 ? 'is' : 'are';
  return `${mention(requesterId)} wants to install ${head}${tail}, which ${verb} not on this workspace's package list.`;
}

/**
 * What approvers decided: with `mention` (the default) as the question's outcome, which the
 * surface posts as it is; with `name` ("denied by @grace") for the reply and the model, whose
 * text a surface escapes.
 */
export function refusalReason(
  decision: ApprovalDecision,
  timeoutMs: number,
  who: 'mention' | 'name' = 'mention',
): string {
  const by =
    who === 'mention' ? mention(decision.by?.id ?? '?') : `@${decision.by?.name ?? 'an approver'}`;
  switch (decision.outcome) {
    case 'approved':
      return `approved by ${by}`;
    case 'denied':
      return `denied by ${by}`;
    case 'expired':
      return `no answer within ${minutes(timeoutMs)}`;
    case 'cancelled':
      return 'the request was stopped before anyone answered';
  }
}

function minutes(ms: number): string {
  if (ms < 60_000) {
    const seconds = Math.round(ms / 1000);
    return seconds === 1 ? '1 second' : `${seconds} seconds`;
  }
  const count = Math.round(ms / 60_000);
  return count === 1 ? '1 minute' : `${count} minutes`;
}

/** "Only <@U1>, <@&R2> can approve or deny package installs." for one platform's entries. */
export function onlyApproversText(platform: string, approvers: readonly string[]): string {
  const names = approvers.flatMap((entry) => {
    if (!entry.startsWith(`${platform}:`)) return [];
    const rest = entry.slice(platform.length + 1);
    if (rest.startsWith('role:')) return [`<@&${rest.slice('role:'.length)}>`];
    if (rest.startsWith('group:')) return [`<!subteam^${rest.slice('group:'.length)}>`];
    return [mention(rest)];
  });
  return `Only ${names.length === 0 ? 'the package approvers' : names.join(', ')} can approve or deny package installs here.`;
}
