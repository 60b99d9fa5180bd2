/** Meters, prices and the audit trail (MODEL_PRICES, PRICE_CURRENCY, USAGE_TIME_ZONE, AUDIT_LOG…). */
export interface UsageSettings {
  /** Per model name: prices per million input (prompt) and output (completion) tokens. */
  readonly prices: Readonly<
    Record<string, { readonly inputPerMillion: number; readonly outputPerMillion: number }>
  >;
  /** The currency of `prices` (ISO 4217), shown with every cost. */
  readonly currency: string;
  /** IANA zone where a metered (and budgeted) day begins. */
  readonly timeZone: string;
  /** Where each cell's audit line goes. */
  readonly audit:
    | { readonly kind: 'off' }
    | { readonly kind: 'stdout' }
    | { readonly kind: 'file'; readonly path: string };
  /** An audit file is rotated once it reaches this size. */
  readonly auditMaxBytes: number;
  /** Daily limits (BUDGET_*); none set: no limits. */
  readonly budgets: {
    readonly limits: readonly BudgetLimit[];
    /** `platform:user-id` entries exempt from every limit. */
    readonly admins: readonly string[];
  };
}

/** One daily limit: a scope, what is counted, and the most allowed per day. */
export interface BudgetLimit {
  readonly scope: 'user' | 'channel' | 'workspace';
  /** `tokens`: prompt and completion tokens together. */
  readonly metric: 'tokens' | 'cells' | 'cpuSeconds';
  readonly limit: number;
  /** The setting that set it, named in the refusal. */
  readonly setting: string;
}
