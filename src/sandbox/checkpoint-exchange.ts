import { randomUUID } from 'node:crypto';
import { sandboxText, uploadRequests } from './file-transfer.ts';
import type { CheckpointSavedFrame, RunnerFrame, RunnerRequest } from './protocol.ts';
import { exchange, type RunnerChannel } from './runner-exchange.ts';
import type { CheckpointManifest, RestoreReport } from './checkpoint-types.ts';

/**
 * The worker's side of the checkpoint requests (docs/sandbox-protocol.md, "Checkpoints"). Each
 * function is one short exchange; `Sandbox` decides which of them run in its lane. Everything
 * the runner says is bounded by the frame schemas and counted here; a lie ends as `failed` or
 * `too_large`, never as a bigger checkpoint.
 */

/** Bytes asked for per `read_checkpoint`: a cell queued behind a read waits for one piece. */
export const CHECKPOINT_PIECE_BYTES = 1024 * 1024;
/** How long a piece may go without a frame, as for a file copy. */
const PIECE_STALL_MS = 15_000;
/**
 * How long the fork's lane task waits for `checkpoint_started` (a runner without checkpoints
 * never says it). Past it the lane moves on: a cell queued behind then reaches the runner
 * after the request and drops the save, which is the worst that can happen.
 */
const STARTED_WAIT_MS = 3000;
/** How long a save may take in the sandbox before it is given up. */
export const DEFAULT_SAVE_TIMEOUT_MS = 120_000;
const UPLOAD_STALL_MS = 60_000;
/** How long the runner may take to load a checkpoint (no frame comes meanwhile). */
export const DEFAULT_RESTORE_TIMEOUT_MS = 120_000;
/** The entry of a restore report that stands for the whole file. */
export const WHOLE_CHECKPOINT = '(checkpoint)';

export type SaveAnswer =
  | { readonly kind: 'saved'; readonly size: number; readonly manifest: CheckpointManifest }
  | { readonly kind: 'too_large' }
  | { readonly kind: 'dropped' }
  | { readonly kind: 'failed'; readonly reason: string };

export interface StartedSave {
  readonly id: string;
  /** Settles when the forked copy is done (or given up); never rejects. */
  readonly answer: Promise<SaveAnswer>;
}

/**
 * Asks the runner to fork and save; resolves as soon as it has forked (or answered at once),
 * while the save itself goes on: `answer` settles later.
 */
export async function startCheckpoint(
  channel: RunnerChannel,
  maxBytes: number,
  saveTimeoutMs = DEFAULT_SAVE_TIMEOUT_MS,
): Promise<StartedSave> {
  const id = `checkpoint-${randomUUID()}`;
  let onStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  const answer = exchange(channel, { type: 'checkpoint', id, maxBytes }, saveTimeoutMs, (frame) => {
    if (frame.type !== 'checkpoint_started') return saveAnswer(frame, maxBytes);
    onStarted();
    return undefined;
  }).catch((error: unknown) => failed(errorText(error)));
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, STARTED_WAIT_MS)));
  await Promise.race([started, answer, waited]).finally(() => clearTimeout(timer));
  return { id, answer };
}

function saveAnswer(frame: RunnerFrame, maxBytes: number): SaveAnswer {
  if (frame.type === 'checkpoint_saved') {
    return frame.size > maxBytes ? { kind: 'too_large' } : saved(frame);
  }
  if (frame.type === 'checkpoint_failed') {
    if (frame.reason === 'too_large') return { kind: 'too_large' };
    if (frame.reason === 'dropped') return { kind: 'dropped' };
    return failed(`the sandbox could not save: ${sandboxText(frame.detail ?? 'no detail')}`);
  }
  return failed('the sandbox answered the checkpoint with something invalid');
}

function saved(frame: CheckpointSavedFrame): SaveAnswer {
  return {
    kind: 'saved',
    size: frame.size,
    manifest: {
      names: frame.names.map(sandboxText),
      modules: Object.fromEntries(
        Object.entries(frame.modules).map(([alias, name]) => [
          sandboxText(alias),
          sandboxText(name),
        ]),
      ),
      notSaved: cleanEntries(frame.notSaved),
    },
  };
}

function cleanEntries(
  entries: readonly { name: string; reason: string }[],
): { name: string; reason: string }[] {
  return entries.map((e) => ({ name: sandboxText(e.name), reason: sandboxText(e.reason) }));
}

function failed(reason: string): SaveAnswer {
  return { kind: 'failed', reason };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export type Piece =
  | { readonly kind: 'piece'; readonly content: Buffer }
  | { readonly kind: 'refused'; readonly reason: string };

/**
 * One `read_checkpoint`: at most `maxBytes` bytes from `offset`, counted here. Never rejects:
 * a stall (15 s without a frame) or an exited kernel is a refusal.
 */
export function readPiece(
  channel: RunnerChannel,
  checkpointId: string,
  offset: number,
  maxBytes: number,
): Promise<Piece> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  const request: RunnerRequest = {
    type: 'read_checkpoint',
    id: `checkpoint-read-${randomUUID()}`,
    checkpoint: checkpointId,
    offset,
    maxBytes,
  };
  return exchange(channel, request, PIECE_STALL_MS, (frame): Piece | undefined => {
    if (frame.type === 'file_data') {
      const chunk = Buffer.from(frame.data, 'base64');
      bytes += chunk.length;
      if (bytes > maxBytes) return { kind: 'refused', reason: 'the sandbox sent more than asked' };
      chunks.push(chunk);
      return undefined;
    }
    if (frame.type === 'file_end' && frame.refused === undefined) {
      return { kind: 'piece', content: Buffer.concat(chunks, bytes) };
    }
    const reason = frame.type === 'file_end' ? (frame.refused ?? '') : 'an invalid answer';
    return { kind: 'refused', reason: `the checkpoint could not be read: ${sandboxText(reason)}` };
  }).catch((error: unknown): Piece => ({ kind: 'refused', reason: errorText(error) }));
}

export type ReadOutcome =
  | { readonly kind: 'content'; readonly content: Buffer }
  | { readonly kind: 'too_large' }
  | { readonly kind: 'failed'; readonly reason: string };

/**
 * Reads a saved checkpoint piece by piece with `read` (each piece its own lane task), keeping
 * at most `maxBytes`: one byte more is asked for, so a file past the limit is seen as such.
 */
export async function readCheckpoint(
  claimedSize: number,
  maxBytes: number,
  read: (offset: number, maxBytes: number) => Promise<Piece>,
): Promise<ReadOutcome> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const asked = Math.min(CHECKPOINT_PIECE_BYTES, maxBytes + 1 - total);
    const piece = await read(total, asked);
    if (piece.kind === 'refused') return { kind: 'failed', reason: piece.reason };
    total += piece.content.length;
    if (total > maxBytes) return { kind: 'too_large' };
    chunks.push(piece.content);
    if (piece.content.length < asked) break;
  }
  if (total !== claimedSize) {
    return { kind: 'failed', reason: 'the checkpoint changed while it was read' };
  }
  return { kind: 'content', content: Buffer.concat(chunks, total) };
}

/**
 * Removes the saved file of `checkpointId` in the sandbox (the worker holds its bytes); with
 * no id, kills a save still running and removes every saved file.
 */
export async function dropSavedCheckpoint(
  channel: RunnerChannel,
  checkpointId?: string,
): Promise<void> {
  const id = `checkpoint-drop-${randomUUID()}`;
  const request: RunnerRequest =
    checkpointId === undefined
      ? { type: 'drop_checkpoint', id }
      : { type: 'drop_checkpoint', id, checkpoint: checkpointId };
  await exchange(channel, request, PIECE_STALL_MS, (frame) =>
    frame.type === 'checkpoint_dropped' ? true : undefined,
  );
}

/**
 * Uploads `content` to the runner's private restore area and loads it into the kernel. A
 * refused upload or an invalid answer is a report (nothing restored), not an error; a
 * kernel that stops answering or exits is.
 */
export async function restoreCheckpoint(
  channel: RunnerChannel,
  content: Buffer,
  timeoutMs = DEFAULT_RESTORE_TIMEOUT_MS,
): Promise<RestoreReport> {
  const name = `restore-${randomUUID()}.dill`;
  const [first, ...rest] = uploadRequests({ name, content }, `write-${randomUUID()}`);
  const requests: [RunnerRequest, ...RunnerRequest[]] = [
    { ...first, area: 'checkpoint' },
    ...rest.map((request) => ({ ...request, area: 'checkpoint' as const })),
  ];
  const refused = await exchange(channel, requests, UPLOAD_STALL_MS, (frame) =>
    frame.type === 'file_written' ? (frame.refused ?? '') : undefined,
  );
  if (refused !== '') return nothingRestored(`the upload was refused: ${sandboxText(refused)}`);
  const request: RunnerRequest = { type: 'restore', id: `restore-${randomUUID()}`, name };
  return await exchange(channel, request, timeoutMs, (frame): RestoreReport => {
    if (frame.type !== 'restored')
      return nothingRestored('the sandbox answered with something invalid');
    return {
      restored: frame.restored.map(sandboxText),
      notRestored: cleanEntries(frame.notRestored),
    };
  });
}

function nothingRestored(reason: string): RestoreReport {
  return { restored: [], notRestored: [{ name: WHOLE_CHECKPOINT, reason }] };
}
