import type { RestoreReport } from '../sandbox/checkpoint-types.ts';
import type { CheckpointMeta } from './checkpoint-store.ts';

/** Names shown in a notice at most; the rest are counted. */
const MAX_NAMES_SHOWN = 12;

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, MAX_NAMES_SHOWN).join(', ');
  const more = names.length - MAX_NAMES_SHOWN;
  return more > 0 ? `${shown} and ${more} more` : shown;
}

/** "14:05 UTC", or with the date when it was not today (UTC). */
export function checkpointTime(savedAtMs: number, nowMs: number = Date.now()): string {
  const saved = new Date(savedAtMs).toISOString();
  const time = `${saved.slice(11, 16)} UTC`;
  return saved.slice(0, 10) === new Date(nowMs).toISOString().slice(0, 10)
    ? time
    : `${saved.slice(0, 10)} ${time}`;
}

/**
 * What the thread and the model are told when a new kernel got a session's variables back:
 * from when, what came back, and what did not and why (what could not be saved then, and what
 * failed to load now).
 */
export function restoredNotice(
  meta: CheckpointMeta,
  report: RestoreReport,
  nowMs: number = Date.now(),
): string {
  // The sandbox may list the re-imported modules among what it restored; each name once.
  const restored = [...new Set([...report.restored, ...Object.keys(meta.modules)])];
  const notRestored = [...meta.notSaved, ...report.notRestored].map(
    (item) => `${item.name} (${item.reason})`,
  );
  const parts = [
    `This runs in a fresh kernel; the thread's variables were restored from the checkpoint of ${checkpointTime(meta.savedAtMs, nowMs)}` +
      (restored.length > 0 ? `: ${listNames(restored)}.` : '.'),
  ];
  if (notRestored.length > 0) parts.push(`Not restored: ${listNames(notRestored)}.`);
  parts.push('Changes made after the checkpoint are gone.');
  return parts.join(' ');
}
