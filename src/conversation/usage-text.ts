import { formatBytes } from '../core/bytes.ts';
import type { UsageTotals } from '../metering/usage-totals.ts';

/** One line of usage for `status`, e.g. "This thread: 1,204 tokens in, 310 out (3 model calls), …". */
export function usageLine(label: string, totals: UsageTotals, currency: string): string {
  const parts = [
    `${count(totals.promptTokens)} tokens in, ${count(totals.completionTokens)} out (${plural(totals.modelCalls, 'model call')})`,
    plural(totals.cells, 'cell'),
    `${totals.cpuSeconds.toFixed(1)} CPU-s`,
  ];
  if (totals.memoryPeakBytes > 0) parts.push(`memory peak ${formatBytes(totals.memoryPeakBytes)}`);
  parts.push(`${formatBytes(totals.bytesIn)} in / ${formatBytes(totals.bytesOut)} out`);
  if (totals.cost > 0) parts.push(`cost ${formatCost(totals.cost)} ${currency}`);
  return `${label}: ${parts.join(', ')}.`;
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function plural(n: number, noun: string): string {
  return `${count(n)} ${noun}${Math.round(n) === 1 ? '' : 's'}`;
}

/** Small costs keep their first significant digits: 0.00042, not 0.00. */
function formatCost(cost: number): string {
  return cost >= 1 ? cost.toFixed(2) : cost.toPrecision(2);
}
