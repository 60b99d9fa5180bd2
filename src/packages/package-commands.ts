import type { PackageInstaller } from '../agent/install-packages-tool.ts';
import { installWithApproval } from '../conversation/package-approval-install.ts';
import type { TurnContext } from '../conversation/turn-context.ts';
import { textReply, type Reply } from '../core/reply.ts';
import { MAX_PACKAGES_PER_JOB } from '../core/job.ts';
import {
  describeInstalled,
  describePackages,
  requestPackages,
  type PackagesOutcome,
} from './request-install.ts';

export const PACKAGES_OFF_TEXT =
  'Packages cannot be installed here: whoever runs me has not set up a package index (SANDBOX_PACKAGE_INDEX). The sandbox has what its image has; `help` says more.';

export const INSTALL_USAGE_TEXT =
  'Name the packages to install: `install tabulate`, `install tinytable==1.2 sbdep`.';

/** Names of a chat `install` argument: separated by spaces or commas. */
export function installArguments(argument: string): string[] {
  return argument
    .split(/[\s,]+/)
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

/**
 * Installs packages for the session from the operator's index and the whole thread can
 * import them; a refusal on the allowlist alone asks PACKAGE_APPROVERS when they are set.
 */
export async function installPackages(
  turn: TurnContext,
  names: readonly string[],
): Promise<string> {
  if (turn.services.packageAllowlist === undefined) return PACKAGES_OFF_TEXT;
  const notices: string[] = [];
  let failure: string | undefined;
  const outcome = await installWithApproval(turn, names, async (approved) => {
    const result: PackagesOutcome = await requestPackages(
      turn.services,
      {
        sessionId: turn.message.sessionKey,
        packages: names,
        ...(approved === undefined ? {} : { approvedPackages: approved }),
      },
      turn.signal,
    );
    notices.push(...result.notices);
    failure ??= result.failure;
    return result;
  });
  const text = describePackages({
    installed: outcome.installed,
    refused: outcome.refused,
    notices,
    ...(failure === undefined ? {} : { failure }),
  });
  return outcome.approval === undefined ? text : `${text}\nApproval: ${outcome.approval.text}.`;
}

/** `install NAME…` */
export async function installCommand(turn: TurnContext, argument: string): Promise<Reply> {
  const names = installArguments(argument);
  if (names.length === 0 || names.length > MAX_PACKAGES_PER_JOB) {
    await turn.save();
    return textReply(INSTALL_USAGE_TEXT, turn.refusals);
  }
  turn.thread.progress({ type: 'running', code: `# install ${names.join(' ')}` });
  const text = await installPackages(turn, names);
  await turn.save();
  return textReply(text, turn.refusals);
}

/** `packages`: what this thread installed, with versions. */
export async function packagesCommand(turn: TurnContext): Promise<Reply> {
  const outcome = await requestPackages(
    turn.services,
    { sessionId: turn.message.sessionKey, packages: [] },
    new AbortController().signal,
    true,
  );
  await turn.save();
  const off = turn.services.packageAllowlist === undefined ? `\n${PACKAGES_OFF_TEXT}` : '';
  return textReply(`${describeInstalled(outcome)}${off}`, turn.refusals);
}

/** The agent's install_packages for this turn, when the bot has a package index. */
export function agentInstaller(turn: TurnContext): { installPackages?: PackageInstaller } {
  const allowlist = turn.services.packageAllowlist;
  if (allowlist === undefined) return {};
  return { installPackages: { allowlist, run: (packages) => installPackages(turn, packages) } };
}
