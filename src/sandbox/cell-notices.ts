import type { CellStatus } from '../core/cell-events.ts';

/** What the user is told whenever a kernel was replaced under them. */
export const RESTART_NOTICE =
  'The Python kernel was restarted: variables from earlier cells and files in /mnt/data are gone.';

/**
 * Told with the cell whose kernel was killed. What comes back is decided by the next cell (the
 * thread's saved files, its packages, the last checkpoint's variables: job-executor.ts), which
 * says so then; here only that this kernel's state is gone and where to look.
 */
export const KILLED_NOTICE =
  "The Python kernel was restarted: this kernel's variables and files are gone. The next cell starts a fresh kernel and says what comes back (the thread's saved files, and the variables of its last checkpoint if one was saved).";

export const STOPPED_BEFORE_START_NOTICE = 'Stopped before the cell started; nothing ran.';

/** The cell stopped at its time limit on SIGINT, so its kernel (and state) survived. */
export function timeoutNotice(timeoutMs: number): string {
  return `The cell was stopped at the ${formatSeconds(timeoutMs)} time limit; variables from earlier cells are kept.`;
}

/** The kernel's container exited while the cell ran: why, and that its state was lost. */
export function exitNotice(status: CellStatus, timeoutMs: number): string {
  switch (status) {
    case 'timeout':
      return `The cell did not stop at the ${formatSeconds(timeoutMs)} time limit, so its kernel was killed. ${KILLED_NOTICE}`;
    case 'interrupted':
      return `The cell did not stop when asked, so its kernel was killed. ${KILLED_NOTICE}`;
    case 'oom':
      return `The cell ran out of memory and its kernel was killed. ${KILLED_NOTICE}`;
    default:
      return `The Python kernel exited unexpectedly. ${KILLED_NOTICE}`;
  }
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return Number.isInteger(seconds) ? `${seconds} s` : `${seconds.toFixed(1)} s`;
}
