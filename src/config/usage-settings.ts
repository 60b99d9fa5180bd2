import { z } from 'zod';
import type { BudgetLimit, UsageSettings } from '../core/usage-settings.ts';

/** A decimal price per million tokens. */
const PRICE = String.raw`\d{1,7}(?:\.\d{1,6})?`;
const MODEL_PRICE = String.raw`[A-Za-z0-9][A-Za-z0-9._:/@-]*=${PRICE}/${PRICE}`;

/** Whether the runtime knows the IANA time zone (Intl throws a RangeError otherwise). */
function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Meters, prices and the audit trail (src/metering/, src/audit/); spread into SETTINGS. */
export const USAGE_SETTINGS = {
  MODEL_PRICES: {
    schema: z.string().regex(new RegExp(`^${MODEL_PRICE}(?:,\\s*${MODEL_PRICE})*$`)),
    expected:
      'a comma-separated list of model=input/output prices per million tokens, e.g. gpt-4o-mini=0.15/0.60',
  },
  PRICE_CURRENCY: {
    schema: z
      .string()
      .regex(/^[A-Z]{3}$/)
      .default('USD'),
    expected: 'a three-letter currency code such as USD or EUR (the currency of MODEL_PRICES)',
  },
  USAGE_TIME_ZONE: {
    schema: z.string().refine(isTimeZone).default('UTC'),
    expected: 'an IANA time zone such as UTC or Europe/Paris (where a metered day begins)',
  },
  AUDIT_LOG: {
    schema: z
      .string()
      // eslint-disable-next-line no-control-regex -- refusing control characters is the point
      .regex(/^[^\x00-\x1f]+$/)
      .default('off'),
    expected:
      'stdout, off, or a file path (one file per process, its name suffixed with the process id)',
  },
  AUDIT_LOG_MAX_MB: {
    schema: z.coerce.number().int().min(1).max(10240).default(100),
    expected: 'a whole number of megabytes from 1 to 10240 (an audit file is rotated at this size)',
  },
  BUDGET_ADMINS: {
    schema: z.string().regex(/^[a-z]+:[A-Za-z0-9._@-]+(,\s*[a-z]+:[A-Za-z0-9._@-]+)*$/),
    expected: 'a comma-separated list of platform:user-id exempt from the BUDGET_* limits',
  },
  ...budgetSetting('BUDGET_USER_TOKENS', 'model tokens per person per day'),
  ...budgetSetting('BUDGET_USER_CELLS', 'code cells per person per day'),
  ...budgetSetting('BUDGET_USER_CPU_SECONDS', 'sandbox CPU-seconds per person per day'),
  ...budgetSetting('BUDGET_CHANNEL_TOKENS', 'model tokens per channel per day'),
  ...budgetSetting('BUDGET_CHANNEL_CELLS', 'code cells per channel per day'),
  ...budgetSetting('BUDGET_CHANNEL_CPU_SECONDS', 'sandbox CPU-seconds per channel per day'),
  ...budgetSetting(
    'BUDGET_WORKSPACE_TOKENS',
    'model tokens per workspace (Discord server) per day',
  ),
  ...budgetSetting('BUDGET_WORKSPACE_CELLS', 'code cells per workspace per day'),
  ...budgetSetting('BUDGET_WORKSPACE_CPU_SECONDS', 'sandbox CPU-seconds per workspace per day'),
} as const;

function budgetSetting<N extends string>(name: N, what: string) {
  return {
    [name]: {
      schema: z.coerce.number().int().min(1).max(1e12),
      expected: `a whole number of ${what}, at least 1, or unset for no limit`,
    },
  } as { [K in N]: { schema: z.ZodCoercedNumber; expected: string } };
}

/** Which scope and metric each budget setting limits. */
const BUDGETS: readonly (Omit<BudgetLimit, 'limit'> & { setting: keyof Parsed })[] = [
  { setting: 'BUDGET_USER_TOKENS', scope: 'user', metric: 'tokens' },
  { setting: 'BUDGET_USER_CELLS', scope: 'user', metric: 'cells' },
  { setting: 'BUDGET_USER_CPU_SECONDS', scope: 'user', metric: 'cpuSeconds' },
  { setting: 'BUDGET_CHANNEL_TOKENS', scope: 'channel', metric: 'tokens' },
  { setting: 'BUDGET_CHANNEL_CELLS', scope: 'channel', metric: 'cells' },
  { setting: 'BUDGET_CHANNEL_CPU_SECONDS', scope: 'channel', metric: 'cpuSeconds' },
  { setting: 'BUDGET_WORKSPACE_TOKENS', scope: 'workspace', metric: 'tokens' },
  { setting: 'BUDGET_WORKSPACE_CELLS', scope: 'workspace', metric: 'cells' },
  { setting: 'BUDGET_WORKSPACE_CPU_SECONDS', scope: 'workspace', metric: 'cpuSeconds' },
];

type Parsed = {
  readonly [K in keyof typeof USAGE_SETTINGS]?:
    z.infer<(typeof USAGE_SETTINGS)[K]['schema']> | undefined;
};

/** The typed part of Config these settings make. */
export function usageConfig(s: Parsed): UsageSettings {
  return {
    prices: parsePrices(s.MODEL_PRICES),
    currency: s.PRICE_CURRENCY ?? 'USD',
    timeZone: s.USAGE_TIME_ZONE ?? 'UTC',
    audit: auditDestination(s.AUDIT_LOG ?? 'off'),
    auditMaxBytes: (s.AUDIT_LOG_MAX_MB ?? 100) * 1024 * 1024,
    budgets: {
      limits: BUDGETS.flatMap(({ setting, scope, metric }) => {
        const limit = s[setting];
        return typeof limit === 'number' ? [{ setting, scope, metric, limit }] : [];
      }),
      admins: s.BUDGET_ADMINS?.split(',').map((a) => a.trim()) ?? [],
    },
  };
}

function parsePrices(value: string | undefined): UsageSettings['prices'] {
  const prices: Record<string, { inputPerMillion: number; outputPerMillion: number }> = {};
  for (const entry of value?.split(',') ?? []) {
    const [model = '', price = ''] = entry.trim().split('=');
    const [input = '0', output = '0'] = price.split('/');
    prices[model] = { inputPerMillion: Number(input), outputPerMillion: Number(output) };
  }
  return prices;
}

function auditDestination(value: string): UsageSettings['audit'] {
  if (value === 'off') return { kind: 'off' };
  if (value === 'stdout') return { kind: 'stdout' };
  return { kind: 'file', path: value };
}
