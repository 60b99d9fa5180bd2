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
}
