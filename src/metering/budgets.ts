import type { BudgetLimit, UsageSettings } from '../core/usage-settings.ts';
import type { MeterScopes, MeterStore } from './meter-store.ts';
import { nextDayStart } from './metered-day.ts';
import { addUsage, type UsageTotals } from './usage-totals.ts';

const SCOPE_WORDS: Record<BudgetLimit['scope'], string> = {
  user: 'your',
  channel: "this channel's",
  workspace: "this workspace's",
};

const METRIC_WORDS: Record<BudgetLimit['metric'], string> = {
  tokens: 'model tokens',
  cells: 'code cells',
  cpuSeconds: 'sandbox CPU-seconds',
};

export function usedOf(totals: UsageTotals, metric: BudgetLimit['metric']): number {
  return metric === 'tokens' ? totals.promptTokens + totals.completionTokens : totals[metric];
}

/**
 * Why the next turn or cell may not run, or undefined when it may: the first daily limit
 * (BUDGET_*) that today's stored totals, plus what this turn used so far, have reached.
 * Admins (BUDGET_ADMINS, `platform:user-id`) are never refused.
 */
export async function budgetRefusal(options: {
  readonly settings: Pick<UsageSettings, 'budgets' | 'timeZone'>;
  readonly meters: MeterStore;
  readonly scopes: MeterScopes;
  readonly platform: string;
  readonly userId: string;
  readonly day: string;
  readonly now: Date;
  /** This turn's usage so far (not stored until the turn ends). */
  readonly pending: UsageTotals;
}): Promise<string | undefined> {
  const { limits, admins } = options.settings.budgets;
  if (limits.length === 0) return undefined;
  if (admins.includes(`${options.platform}:${options.userId}`)) return undefined;
  const scopes = [...new Set(limits.map((l) => l.scope))];
  const totals = new Map(
    await Promise.all(
      scopes.map(
        async (scope) =>
          [
            scope,
            addUsage(
              await options.meters.read({ scope: options.scopes[scope], period: options.day }),
              options.pending,
            ),
          ] as const,
      ),
    ),
  );
  for (const limit of limits) {
    const used = totals.get(limit.scope);
    if (used === undefined || usedOf(used, limit.metric) < limit.limit) continue;
    return refusalText(limit, options.now, options.settings.timeZone);
  }
  return undefined;
}

function refusalText(limit: BudgetLimit, now: Date, timeZone: string): string {
  const resetAt = nextDayStart(now, timeZone);
  const minutes = Math.max(1, Math.round((resetAt.getTime() - now.getTime()) / 60_000));
  const wait =
    minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
  const amount = limit.limit.toLocaleString('en-US');
  return (
    `Sorry, ${SCOPE_WORDS[limit.scope]} daily limit of ${amount} ${METRIC_WORDS[limit.metric]} ` +
    `(${limit.setting}) has been reached, so I can't run this now. It resets at midnight ` +
    `${timeZone} (in ${wait}); an admin can raise the limit.`
  );
}
