import type { Config } from '../core/config.ts';
import type { Logger } from '../logging/logger.ts';
import type { ApprovalStore } from './approval-store.ts';
import { PackageApprovals } from './package-approvals.ts';

/** PACKAGE_APPROVAL_TIMEOUT_MINUTES' default. */
const DEFAULT_TIMEOUT_MS = 30 * 60_000;

/**
 * The conversation's package approvals on `store`, when PACKAGE_APPROVERS names anyone. The
 * questions go through the adapters of this process, which offer their buttons when built
 * (`sandbot chat` and the playground have none: there an off-list install is refused, saying
 * approvals need Slack or Discord).
 */
export function packageApprovalServices(
  store: ApprovalStore,
  config: Config,
  logger: Logger,
): { readonly approvals?: PackageApprovals } {
  const approvers = config.policy.packageApprovers;
  if (approvers === undefined || approvers.length === 0) return {};
  return {
    approvals: new PackageApprovals({
      store,
      settings: {
        approvers,
        timeoutMs: config.policy.packageApprovalTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      },
      logger: logger.child({ component: 'package-approvals' }),
    }),
  };
}
