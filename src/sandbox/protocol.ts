import { z } from 'zod';

/**
 * Frames of docs/sandbox-protocol.md. User code shares a process with the runner and could
 * write to the protocol descriptor, so every frame is validated here, never trusted.
 */
const mimeBundle = z.record(z.string(), z.string());

/** Distribution names are PEP 503-normalised by the runner; anything else is not a name. */
const PACKAGE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$/;
export const MAX_PACKAGES = 2000;

/**
 * The image's distributions (newer runners). Bounded in count and length; a list that breaks
 * the rules is dropped (`catch`), never a reason to refuse the kernel.
 */
const packages = z
  .array(z.string().regex(PACKAGE_NAME))
  .max(MAX_PACKAGES)
  .optional()
  .catch(undefined);

const ready = z.object({
  type: z.literal('ready'),
  pythonVersion: z.string().max(64),
  startupMs: z.number(),
  packages,
});
const stream = z.object({
  type: z.literal('stream'),
  id: z.string(),
  name: z.enum(['stdout', 'stderr']),
  text: z.string(),
});
const display = z.object({
  type: z.literal('display'),
  id: z.string(),
  kind: z.enum(['execute_result', 'display_data']),
  data: mimeBundle,
  metadata: z.record(z.string(), z.unknown()).optional(),
});
const error = z.object({
  type: z.literal('error'),
  id: z.string(),
  ename: z.string(),
  evalue: z.string(),
  traceback: z.array(z.string()),
});
const done = z.object({
  type: z.literal('done'),
  id: z.string(),
  status: z.enum(['ok', 'error', 'interrupted']),
  executionCount: z.number().int(),
  durationMs: z.number(),
  files: z.array(z.object({ path: z.string(), size: z.number().int().nonnegative() })).max(10_000),
  truncatedBytes: z.number().int().nonnegative(),
  /** Rich outputs the runner left out by the per-cell count caps (newer runners only). */
  droppedOutputs: z.number().int().nonnegative().optional(),
});
/** A piece of a file the worker asked for with `read_file`, in base64. */
const fileData = z.object({ type: z.literal('file_data'), id: z.string(), data: z.string() });
/** The end of a `read_file` answer: the bytes sent, or why the file was refused. */
const fileEnd = z.object({
  type: z.literal('file_end'),
  id: z.string(),
  size: z.number().int().nonnegative().optional(),
  refused: z.string().max(500).optional(),
});
/** The answer to the `write_file` requests of one upload: the bytes written, or why not. */
const fileWritten = z.object({
  type: z.literal('file_written'),
  id: z.string(),
  size: z.number().int().nonnegative().optional(),
  refused: z.string().max(500).optional(),
});
const snapshot = z.object({ type: z.literal('snapshot'), id: z.string() });

/**
 * Checkpoints (docs/sandbox-protocol.md, "Checkpoints"). What the runner says about a save is
 * bounded here; a frame that breaks a bound becomes `malformed` (below) and the checkpoint is
 * treated as failed, never trusted.
 */
export const MAX_CHECKPOINT_NAMES = 1000;
export const MAX_CHECKPOINT_NAME_CHARS = 200;
export const MAX_CHECKPOINT_REASON_CHARS = 200;
const checkpointName = z.string().max(MAX_CHECKPOINT_NAME_CHARS);
const namedReasons = z
  .array(z.object({ name: checkpointName, reason: z.string().max(MAX_CHECKPOINT_REASON_CHARS) }))
  .max(MAX_CHECKPOINT_NAMES);
const checkpointStarted = z.object({ type: z.literal('checkpoint_started'), id: z.string() });
const checkpointSaved = z.object({
  type: z.literal('checkpoint_saved'),
  id: z.string(),
  size: z.number().int().nonnegative(),
  names: z.array(checkpointName).max(MAX_CHECKPOINT_NAMES),
  modules: z
    .record(checkpointName, checkpointName)
    .refine((modules) => Object.keys(modules).length <= MAX_CHECKPOINT_NAMES),
  notSaved: namedReasons,
});
const checkpointFailed = z.object({
  type: z.literal('checkpoint_failed'),
  id: z.string(),
  reason: z.enum(['too_large', 'dropped', 'error']),
  detail: z.string().max(MAX_CHECKPOINT_REASON_CHARS).optional(),
});
const checkpointDropped = z.object({ type: z.literal('checkpoint_dropped'), id: z.string() });
const restored = z.object({
  type: z.literal('restored'),
  id: z.string(),
  restored: z.array(checkpointName).max(MAX_CHECKPOINT_NAMES * 2),
  notRestored: namedReasons,
});
/**
 * An answer about a checkpoint that broke the rules above, kept only as "it was invalid" so
 * the request waiting for it ends (as failed) instead of waiting out its time limit.
 */
const malformed = z.object({
  type: z.literal('malformed'),
  id: z.string(),
  claimed: z.enum(['checkpoint_saved', 'checkpoint_failed', 'restored']),
});
const claimsCheckpointAnswer = z.object({
  type: z.enum(['checkpoint_saved', 'checkpoint_failed', 'restored']),
  id: z.string(),
});
/** The answer to `install` (issue 18): what is importable now, with versions, or pip's error. */
export const MAX_INSTALLED_PACKAGES = 200;
const installed = z.object({
  type: z.literal('installed'),
  id: z.string(),
  packages: z
    .array(z.object({ name: z.string().regex(PACKAGE_NAME), version: z.string().max(100) }))
    .max(MAX_INSTALLED_PACKAGES),
  error: z.string().max(4000).optional(),
});
const pong = z.object({ type: z.literal('pong'), id: z.string() });

export const runnerFrame = z.discriminatedUnion('type', [
  ready,
  stream,
  display,
  error,
  done,
  fileData,
  fileEnd,
  fileWritten,
  snapshot,
  pong,
  installed,
  checkpointStarted,
  checkpointSaved,
  checkpointFailed,
  checkpointDropped,
  restored,
  malformed,
]);

export type RunnerFrame = z.infer<typeof runnerFrame>;
export type DoneFrame = z.infer<typeof done>;
export type InstalledFrame = z.infer<typeof installed>;
export type MimeBundle = z.infer<typeof mimeBundle>;
export type CheckpointSavedFrame = z.infer<typeof checkpointSaved>;

export type RunnerRequest =
  | {
      type: 'execute';
      id: string;
      code: string;
      outputLimitBytes: number;
      /** The per-cell caps on rich outputs, so the runner can apply them as the worker does. */
      maxDisplays?: number;
      maxImages?: number;
    }
  /** Sends the file at `path` (relative to /mnt/data) as `file_data` frames and a `file_end`. */
  | { type: 'read_file'; id: string; path: string; maxBytes: number }
  /**
   * One piece of an upload to /mnt/data/<name>, in order; the runner answers the `final` one.
   * `area` "checkpoint" and "wheels" write to the runner's private directories instead.
   */
  | {
      type: 'write_file';
      id: string;
      name: string;
      data: string;
      offset: number;
      final: boolean;
      area?: 'data' | 'checkpoint' | 'wheels';
    }
  /** Saves the namespace in a forked copy: `checkpoint_started`, later saved or failed. */
  | { type: 'checkpoint'; id: string; maxBytes: number }
  /** Bytes [offset, offset + maxBytes) of a saved checkpoint: `file_data`s and a `file_end`. */
  | { type: 'read_checkpoint'; id: string; checkpoint: string; offset: number; maxBytes: number }
  /**
   * Removes the saved file of `checkpoint`; without it, drops a save still running and every
   * saved file. Answered with `checkpoint_dropped`.
   */
  | { type: 'drop_checkpoint'; id: string; checkpoint?: string }
  /** Loads the checkpoint uploaded to the area "checkpoint" as `name`: `restored`. */
  | { type: 'restore'; id: string; name: string }
  /** Installs wheels written to the area "wheels", offline, into the session's packages. */
  | { type: 'install'; id: string; wheels: string[] }
  | { type: 'snapshot'; id: string }
  | { type: 'ping'; id: string };

export function parseFrame(line: string): RunnerFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const result = runnerFrame.safeParse(value);
  if (result.success) return result.data;
  // The answer to a checkpoint request that breaks the bounds still ends that request.
  const claim = claimsCheckpointAnswer.safeParse(value);
  if (!claim.success) return undefined;
  return { type: 'malformed', id: claim.data.id, claimed: claim.data.type };
}

export function encodeRequest(request: RunnerRequest): string {
  return `${JSON.stringify(request)}\n`;
}
