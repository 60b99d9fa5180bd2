/**
 * A turn's place in its thread for a request that is not a message (a slash command, a
 * button press): Slack gives it no `ts`, so the time it came, in the same form as a message
 * ts (epoch seconds, a dot, six digits of microseconds). It then sorts after every message
 * Slack had stamped before it, and before those that come after.
 */
export function requestOrder(nowMs: number = performance.timeOrigin + performance.now()): string {
  const micros = Math.floor(nowMs * 1000);
  const seconds = Math.floor(micros / 1_000_000);
  return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}`;
}
