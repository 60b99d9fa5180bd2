import { formatBytes } from '../core/bytes.ts';
import type { ErrorEvent, MimeBundle } from '../core/cell-events.ts';
import { KILLED_NOTICE } from './cell-notices.ts';

/**
 * Per-cell bounds on what a cell may show, enforced on the worker's side: the runner applies
 * the same rules as a courtesy, but it shares a process with user code, so what it sends is
 * only data (docs/sandbox-protocol.md, "Output bounds").
 */

/** Rich outputs (display bundles, execute results) a cell may show. */
export const MAX_DISPLAYS_PER_CELL = 100;
/** Of those, how many may carry an image; later ones keep their text form only. */
export const MAX_IMAGES_PER_CELL = 20;
/** Exceptions reported per cell; each is cut to the sizes below. */
const MAX_ERRORS_PER_CELL = 3;
const MAX_ENAME_CHARS = 256;
const MAX_EVALUE_CHARS = 16 * 1024;
const MAX_TRACEBACK_CHARS = 128 * 1024;
/** What is left of a bundle too large for the budget, as the runner does it. */
const FALLBACK_TEXT_CHARS = 4096;
const FALLBACK_PLACEHOLDER = '<output too large to show>';
/** An honest runner sends nothing past the budget; this much refused output is a flood. */
const FLOOD_FRAMES = 1000;
const FLOOD_SLACK_BYTES = 1024 * 1024;

const IMAGE_MIMES = new Set(['image/png', 'image/jpeg']);

/** Bytes a bundle costs: keys and text in UTF-8, images as the bytes their base64 decodes to. */
export function bundleBytes(bundle: MimeBundle): number {
  let total = 0;
  for (const [mime, value] of Object.entries(bundle)) {
    total += Buffer.byteLength(mime, 'utf8');
    total += IMAGE_MIMES.has(mime)
      ? Math.floor((value.length * 3) / 4)
      : Buffer.byteLength(value, 'utf8');
  }
  return total;
}

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8, never splitting a character. */
function utf8Prefix(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const cut = Buffer.from(text, 'utf8').subarray(0, maxBytes).toString('utf8');
  // A character cut in half decodes to U+FFFD at the end; leave it out.
  return cut.endsWith('\uFFFD') && !text.startsWith(cut) ? cut.slice(0, -1) : cut;
}

function hasImage(bundle: MimeBundle): boolean {
  return Object.keys(bundle).some((mime) => IMAGE_MIMES.has(mime));
}

/**
 * One cell's output budget: stdout, stderr and display bundles share `limitBytes`; displays and
 * images are also capped in number; errors have a small allowance of their own, so the user sees
 * the exception even after a flood of prints. Everything refused is counted, for the notice and
 * for the flood guard.
 */
export class OutputBudget {
  readonly limitBytes: number;
  private usedBytes = 0;
  private displays = 0;
  private images = 0;
  private errors = 0;
  /** Bytes the user did not see, and rich outputs left out by the count caps. */
  droppedBytes = 0;
  droppedOutputs = 0;
  /** What arrived past the bounds: an honest runner sends none of it. */
  private refusedBytes = 0;
  private refusedFrames = 0;

  constructor(limitBytes: number) {
    this.limitBytes = limitBytes;
  }

  private get remaining(): number {
    return Math.max(0, this.limitBytes - this.usedBytes);
  }

  /** The part of a stream write that may be shown; undefined when none of it. */
  stream(text: string): string | undefined {
    const size = Buffer.byteLength(text, 'utf8');
    const kept = utf8Prefix(text, this.remaining);
    const keptBytes = Buffer.byteLength(kept, 'utf8');
    this.usedBytes += keptBytes;
    this.refuse(size - keptBytes, kept.length === 0);
    return kept.length === 0 ? undefined : kept;
  }

  /** The bundle, its text form alone, or undefined: whatever fits the budget and the caps. */
  display(bundle: MimeBundle): MimeBundle | undefined {
    const size = bundleBytes(bundle);
    if (this.displays >= MAX_DISPLAYS_PER_CELL) {
      this.droppedOutputs += 1;
      this.refuse(size, true);
      return undefined;
    }
    const imageAllowed = !hasImage(bundle) || this.images < MAX_IMAGES_PER_CELL;
    if (imageAllowed && size <= this.remaining) return this.take(bundle, size);
    const text = (bundle['text/plain'] ?? '').slice(0, FALLBACK_TEXT_CHARS) || FALLBACK_PLACEHOLDER;
    const fallback = { 'text/plain': text };
    const fallbackSize = bundleBytes(fallback);
    if (!imageAllowed) this.droppedOutputs += 1;
    if (fallbackSize <= this.remaining && fallbackSize < size) {
      this.refuse(size - fallbackSize, false);
      return this.take(fallback, fallbackSize);
    }
    this.refuse(size, true);
    return undefined;
  }

  /** The exception, cut to size, or undefined past the per-cell count. */
  error(event: ErrorEvent): ErrorEvent | undefined {
    if (this.errors >= MAX_ERRORS_PER_CELL) {
      this.refuse(0, true);
      return undefined;
    }
    this.errors += 1;
    const traceback: string[] = [];
    let chars = 0;
    for (const line of event.traceback) {
      chars += line.length + 1;
      if (chars > MAX_TRACEBACK_CHARS) {
        traceback.push('[... traceback shortened ...]');
        break;
      }
      traceback.push(line);
    }
    return {
      type: 'error',
      ename: event.ename.slice(0, MAX_ENAME_CHARS),
      evalue: event.evalue.slice(0, MAX_EVALUE_CHARS),
      traceback,
    };
  }

  /** Output kept past its bounds: the sandbox is not a runner following the protocol. */
  get flooded(): boolean {
    return (
      this.refusedFrames > FLOOD_FRAMES ||
      this.refusedBytes > 2 * this.limitBytes + FLOOD_SLACK_BYTES
    );
  }

  /** Frames the cell could not have sent honestly (a frame for a cell that is over, say). */
  refuseFrame(): void {
    this.refuse(0, true);
  }

  private take(bundle: MimeBundle, size: number): MimeBundle {
    this.usedBytes += size;
    this.displays += 1;
    if (hasImage(bundle)) this.images += 1;
    return bundle;
  }

  private refuse(bytes: number, wholeFrame: boolean): void {
    this.droppedBytes += bytes;
    this.refusedBytes += bytes;
    if (wholeFrame) this.refusedFrames += 1;
  }
}

/** What the user is told when output was left out; undefined when nothing was. */
export function truncationNotice(
  droppedBytes: number,
  droppedOutputs: number,
  limitBytes: number,
): string | undefined {
  if (droppedBytes <= 0 && droppedOutputs <= 0) return undefined;
  const limit = `limit ${formatBytes(limitBytes)} per cell`;
  if (droppedOutputs <= 0) {
    return `Output truncated: ${formatBytes(droppedBytes)} more was not shown (${limit}).`;
  }
  return `Output truncated: ${formatBytes(droppedBytes)} more was not shown, ${droppedOutputs} rich output(s) among it (${limit}, at most ${MAX_DISPLAYS_PER_CELL} rich outputs and ${MAX_IMAGES_PER_CELL} images).`;
}

/** The sandbox sent far more than any cell may show: its kernel was killed for it. */
export function floodNotice(limitBytes: number): string {
  return `The cell produced more output than allowed (limit ${formatBytes(limitBytes)} per cell), so its kernel was stopped. ${KILLED_NOTICE}`;
}

/**
 * The longest frame a cell with this budget can honestly cause: a bundle as large as the
 * budget, every byte escaped in JSON (six characters at worst), plus room for a `done` that
 * lists many files. The frame reader refuses anything longer.
 */
export function maxFrameChars(limitBytes: number): number {
  return Math.max(6 * limitBytes + 1024 * 1024, 4 * 1024 * 1024);
}
