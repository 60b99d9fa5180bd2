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
]);

export type RunnerFrame = z.infer<typeof runnerFrame>;
export type DoneFrame = z.infer<typeof done>;
export type InstalledFrame = z.infer<typeof installed>;
export type MimeBundle = z.infer<typeof mimeBundle>;

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
  /** One piece of an upload to /mnt/data/<name>, in order; the runner answers the `final` one. */
  | {
      type: 'write_file';
      id: string;
      name: string;
      data: string;
      offset: number;
      final: boolean;
    }
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
  return result.success ? result.data : undefined;
}

export function encodeRequest(request: RunnerRequest): string {
  return `${JSON.stringify(request)}\n`;
}
