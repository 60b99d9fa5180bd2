import type { BlobRef } from './blob-store.ts';

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

/** How a job ended: a cell status, or a fault of the machinery around it. */
export type JobStatus =
  | CellStatus
  /** The worker running it died; the code was not run again. */
  | 'lost'
  /** It could not run: Docker down, bad job, missing upload. `error` says why. */
  | 'failed';

/** A Jupyter mime bundle: text, or base64 for binary types such as image/png. */
export type MimeBundle = Readonly<Record<string, string>>;

// Each event shape is declared once here. A cell's events exist in two places: inside the
// worker, where a produced file is bytes, and on the queue, where it is a blob reference
// (job data sits in Redis) and the job may end in ways a kernel cannot.

export interface StreamEvent {
  readonly type: 'stdout' | 'stderr';
  readonly text: string;
}

export interface DisplayEvent {
  readonly type: 'display';
  readonly kind: 'execute_result' | 'display_data';
  readonly data: MimeBundle;
}

/** The user's exception: an event, never a thrown error. */
export interface ErrorEvent {
  readonly type: 'error';
  readonly ename: string;
  readonly evalue: string;
  readonly traceback: readonly string[];
}

/** Something the user should be told that is not output: truncation, skipped files, lost state. */
export interface NoticeEvent {
  readonly type: 'notice';
  readonly text: string;
}

/** A produced file inside the worker, before it is stored. */
export interface FileBytesEvent {
  readonly type: 'file';
  /** Relative to /mnt/data. */
  readonly path: string;
  readonly content: Buffer;
}

/** A produced file once stored in the blob store. */
export interface FileRefEvent {
  readonly type: 'file';
  /** Relative to /mnt/data. */
  readonly path: string;
  readonly blob: BlobRef;
}

/**
 * What a cell cost the machine, as the worker read it from the container's cgroup (never from
 * anything the sandbox says): CPU time spent during the cell, and the container's memory peak.
 */
export interface CellUsage {
  readonly cpuSeconds: number;
  /** The container's peak memory so far (cgroup v1: since it started; src/sandbox/cgroup-usage.ts). */
  readonly memoryPeakBytes?: number;
}

/** A `usage` as it came off the queue (JSON from Redis), kept only when it is well-formed. */
export function parseCellUsage(value: unknown): CellUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { cpuSeconds, memoryPeakBytes } = value as Record<string, unknown>;
  const count = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  if (!count(cpuSeconds)) return undefined;
  return count(memoryPeakBytes) ? { cpuSeconds, memoryPeakBytes } : { cpuSeconds };
}

export interface DoneEvent {
  readonly type: 'done';
  readonly status: CellStatus;
  readonly durationMs: number;
  /** True when the kernel this cell ran in (or will next run in) is a fresh one. */
  readonly kernelRestarted: boolean;
  readonly executionCount: number | undefined;
  /** Absent when the worker could not read the container's figures. */
  readonly usage?: CellUsage;
}

export interface JobDone {
  readonly type: 'done';
  readonly status: JobStatus;
  readonly durationMs: number;
  readonly kernelRestarted: boolean;
  /** For `failed` and `lost`: what went wrong, in words a user can act on. */
  readonly message?: string;
  /** The cell's figures (DoneEvent.usage), passed on by the worker. */
  readonly usage?: CellUsage;
}

/** A package now importable in the session (issue 18). */
export interface InstalledPackage {
  /** PEP 503-normalised. */
  readonly name: string;
  readonly version: string;
}

/** A package that was not installed, and why, in words for the user and the model. */
export interface RefusedPackage {
  readonly name: string;
  readonly reason: string;
  /** True when the allowlist is the only obstacle (an approver could allow it). */
  readonly offAllowlist: boolean;
}

/**
 * The outcome of an `install` job (what it installed and refused) or of a `packages` job
 * (everything the session has installed, nothing refused). Sent before the `done`.
 */
export interface PackagesEvent {
  readonly type: 'packages';
  readonly installed: readonly InstalledPackage[];
  readonly refused: readonly RefusedPackage[];
}

export interface StartedEvent {
  readonly type: 'started';
  readonly workerId: string;
  readonly queueWaitMs: number;
}

/** The ordered events of one cell as the sandbox produces them; exactly one `done` ends them. */
export type CellEvent =
  StreamEvent | DisplayEvent | ErrorEvent | FileBytesEvent | NoticeEvent | DoneEvent;

/** A job's events, in order, as the queue delivers them; exactly one `done` ends them. */
export type JobEvent =
  | StartedEvent
  | StreamEvent
  | DisplayEvent
  | ErrorEvent
  | FileRefEvent
  | NoticeEvent
  | PackagesEvent
  | JobDone;
