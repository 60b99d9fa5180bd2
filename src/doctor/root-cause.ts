import { errorMessage } from '../core/errors.ts';

/**
 * The innermost reason of a network failure: clients wrap it ("Connection error." →
 * "fetch failed" → "connect ECONNREFUSED 127.0.0.1:11434"), and only the last says what
 * could not be reached. Follows `cause` and Slack's `original`.
 */
export function rootCause(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5; depth += 1) {
    const inner =
      (current as { cause?: unknown } | null)?.cause ??
      (current as { original?: unknown } | null)?.original;
    if (inner === undefined || inner === null) break;
    current = inner;
  }
  // A client's own timeout surfaces as an abort, whose message ("This operation was
  // aborted") would read as if someone had cancelled the check.
  const name = (current as { name?: unknown } | null)?.name;
  if (name === 'AbortError' || name === 'TimeoutError') return 'no answer in time';
  const code = (current as { code?: unknown } | null)?.code;
  const message = errorMessage(current);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}
