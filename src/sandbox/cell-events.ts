import type { MimeBundle } from './protocol.ts';

/** How a cell ended, as the user sees it. */
export type CellStatus =
  /** Ran to the end. */
  | 'ok'
  /** The user's code raised; the exception is in an `error` event. */
  | 'error'
  /** Stopped on request (Stop button, Ctrl-C); the kernel's state survives unless `kernelRestarted`. */
  | 'interrupted'
  /** Ran past the cell time limit. */
  | 'timeout'
  /** Ran out of memory; the kernel was killed. */
  | 'oom'
  /** The kernel died some other way (killed from inside, crashed). */
  | 'killed';

/**
 * The ordered events of one cell; the shape every later layer (job queue, chat replies)
 * passes along. A user's exception is an event, never a thrown error.
 */
export type CellEvent =
  | { readonly type: 'stdout' | 'stderr'; readonly text: string }
  | {
      readonly type: 'display';
      readonly kind: 'execute_result' | 'display_data';
      readonly data: MimeBundle;
    }
  | {
      readonly type: 'error';
      readonly ename: string;
      readonly evalue: string;
      readonly traceback: readonly string[];
    }
  | { readonly type: 'file'; readonly path: string; readonly content: Buffer }
  /** Something the user should be told that is not output: truncation, skipped files, lost state. */
  | { readonly type: 'notice'; readonly text: string }
  | {
      readonly type: 'done';
      readonly status: CellStatus;
      readonly durationMs: number;
      /** True when the kernel this cell ran in (or will next run in) is a fresh one. */
      readonly kernelRestarted: boolean;
      readonly executionCount: number | undefined;
    };

export type DoneEvent = Extract<CellEvent, { type: 'done' }>;
