/**
 * What a turn, a thread, a person or a channel used: model tokens and calls, cells, the
 * sandbox's CPU time and memory peak as the worker measured them, bytes in and out, cost.
 */
export interface UsageTotals {
  readonly turns: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly modelCalls: number;
  readonly cells: number;
  readonly cpuSeconds: number;
  /** The highest container memory peak of any cell counted (a maximum, not a sum). */
  readonly memoryPeakBytes: number;
  /** Attachments taken in. */
  readonly bytesIn: number;
  /** Files and images the cells produced. */
  readonly bytesOut: number;
  /** In the operator's currency, by MODEL_PRICES at the time; 0 without prices. */
  readonly cost: number;
}

export const USAGE_FIELDS = [
  'turns',
  'promptTokens',
  'completionTokens',
  'modelCalls',
  'cells',
  'cpuSeconds',
  'memoryPeakBytes',
  'bytesIn',
  'bytesOut',
  'cost',
] as const satisfies readonly (keyof UsageTotals)[];

/** The one field that keeps the largest value instead of adding up. */
export const PEAK_FIELD = 'memoryPeakBytes';

export const NO_USAGE: UsageTotals = {
  turns: 0,
  promptTokens: 0,
  completionTokens: 0,
  modelCalls: 0,
  cells: 0,
  cpuSeconds: 0,
  memoryPeakBytes: 0,
  bytesIn: 0,
  bytesOut: 0,
  cost: 0,
};

export function addUsage(a: UsageTotals, b: Partial<UsageTotals>): UsageTotals {
  const sum: Record<string, number> = { ...a };
  for (const field of USAGE_FIELDS) {
    const value = b[field] ?? 0;
    sum[field] = field === PEAK_FIELD ? Math.max(a[field], value) : a[field] + value;
  }
  return sum as unknown as UsageTotals;
}

/** Totals from stored field values (missing or garbled ones count as 0). */
export function usageFrom(
  fields: Readonly<Record<string, string | number | undefined>>,
): UsageTotals {
  const totals: Record<string, number> = {};
  for (const field of USAGE_FIELDS) {
    const value = Number(fields[field] ?? 0);
    totals[field] = Number.isFinite(value) ? value : 0;
  }
  return totals as unknown as UsageTotals;
}
