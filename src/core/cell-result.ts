import type { BlobRef } from './blob-store.ts';
import type { CellUsage, JobStatus, MimeBundle } from './cell-events.ts';
import type { TableData } from './table-data.ts';

/**
 * One rich result of a cell (its last expression, a `display()` call, a figure), by mime
 * type. Image bytes never ride here: a PNG or JPEG is a blob reference in `image`, and
 * `data` keeps the text forms (text/plain, text/html, text/markdown, application/json…).
 */
export interface RichResult {
  readonly kind: 'execute_result' | 'display_data';
  readonly data: MimeBundle;
  readonly image?: BlobRef;
  /** A DataFrame as data (src/core/table-data.ts), and its CSV as a blob (`csvRows` rows). */
  readonly table?: TableData;
  readonly csv?: BlobRef;
  readonly csvRows?: number;
}

/** The user's exception, as a value. */
export interface CellError {
  readonly ename: string;
  readonly evalue: string;
  readonly traceback: readonly string[];
}

/** A file the cell wrote to /mnt/data, stored as a blob. */
export interface CellFile {
  /** Relative to /mnt/data. */
  readonly path: string;
  readonly blob: BlobRef;
}

/**
 * One cell's outcome as data, built once from its events (src/core/cell-result-builder.ts)
 * and read by the model's tool result, the reply, the notebook export, the CLI and the
 * session store. Plain JSON: it is stored as it is. Like e2b's `Execution`, streams and rich
 * results are kept apart, so their interleaving within a cell is not kept.
 */
export interface CellResult {
  readonly status: JobStatus;
  /** For `failed` and `lost`: what went wrong, in words a user can act on. */
  readonly message?: string;
  readonly stdout: string;
  readonly stderr: string;
  /** In the order they were shown. */
  readonly results: readonly RichResult[];
  readonly error?: CellError;
  readonly files: readonly CellFile[];
  /** Limits hit, files skipped, state lost… */
  readonly notices: readonly string[];
  readonly durationMs: number;
  /** True when the kernel the next cell runs in is a fresh one. */
  readonly kernelRestarted: boolean;
  readonly executionCount?: number;
  /** CPU and memory as the worker measured them; absent when it could not. */
  readonly usage?: CellUsage;
}

/** The images of a cell, in the order they were shown. */
export function cellImages(result: CellResult): BlobRef[] {
  return result.results.flatMap((r) => (r.image === undefined ? [] : [r.image]));
}

/** Why a cell did not run to its end, for a user; undefined when it did. */
export function failureText(result: CellResult): string | undefined {
  if (result.status === 'ok') return undefined;
  return result.message ?? `The kernel answered ${result.status}.`;
}

/** Every blob a cell refers to, so whoever keeps the cell can keep them alive as long. */
export function cellBlobIds(result: CellResult): string[] {
  const csvs = result.results.flatMap((r) => (r.csv === undefined ? [] : [r.csv]));
  return [...cellImages(result), ...csvs, ...result.files.map((f) => f.blob)].map((b) => b.id);
}
