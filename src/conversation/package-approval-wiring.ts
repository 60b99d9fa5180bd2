import type { ChatAdapter } from '../core/chat-adapter.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../logging/logger.ts';
import type { ApprovalStore } from './approval-store.ts';
import { PackageApprovals } from './package-approvals.ts';

/** PACKAGE_APPROVAL_TIMEOUT_MINUTES' default. */
const DEFAULT_TIMEOUT_MS = 30 * 60_000;

/**
 * The conversation's package approvals on `store`, when PACKAGE_APPROVERS names anyone. The
 * questions go through the adapters of this process (`sandbot chat` has none: there an
 * off-list install is refused, saying approvals need Slack or Discord).
 */
export function packageApprovalServices(
  store: ApprovalStore,
  config: Config,
  logger: Logger,
  adapters: (() => readonly ChatAdapter[]) | undefined,
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
      prompts: (surface) => adapters?.().find((a) => a.name === surface)?.approvalPrompts,
      logger: logger.child({ component: 'package-approvals' }),
    }),
  };
}
