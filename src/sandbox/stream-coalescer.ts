import type { StreamEvent } from '../core/cell-events.ts';

/**
 * At most one flush this often at first: a cell printing in a loop is not a Redis entry
 * a line. The interval doubles after every STEP_EVENTS events (10 a second for the first 10 s,
 * then 5, ...), so a job's event stream grows with the log of a cell's duration.
 */
const FLUSH_INTERVAL_MS = 100;
const STEP_EVENTS = 100;
/** Past this many stream events a cell's further output waits for its end: a hard bound on
 *  the entries of a job's event stream, whatever the cell's duration. */
const MAX_STREAM_EVENTS = 1000;

/**
 * Joins a cell's stream writes into fewer events: a write goes out at once when the interval
 * since the last flush has passed; later ones within it are held and sent together, one event
 * per stream. Within one interval stdout and stderr may swap places: the result keeps them
 * apart anyway (CellResult.stdout and .stderr), and the bound on events must not depend on
 * how a cell interleaves them. `flush()` sends everything held (before a display, an error or
 * the end of the cell), so output printed before a display still comes before it.
 */
export class StreamCoalescer {
  /** Held text by stream, in the order first written. */
  private readonly held = new Map<StreamEvent['type'], string[]>();
  private timer: NodeJS.Timeout | undefined;
  private lastFlushAt = -Infinity;
  private sent = 0;
  private readonly emit: (event: StreamEvent) => void;

  constructor(emit: (event: StreamEvent) => void) {
    this.emit = emit;
  }

  push(name: StreamEvent['type'], text: string): void {
    const pieces = this.held.get(name);
    if (pieces === undefined) this.held.set(name, [text]);
    else pieces.push(text);
    if (this.timer !== undefined || this.sent >= MAX_STREAM_EVENTS) return;
    const intervalMs = FLUSH_INTERVAL_MS * 2 ** Math.floor(this.sent / STEP_EVENTS);
    const waitMs = this.lastFlushAt + intervalMs - performance.now();
    if (waitMs <= 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), waitMs);
  }

  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.held.size === 0) return;
    const held = [...this.held];
    this.held.clear();
    this.lastFlushAt = performance.now();
    for (const [name, pieces] of held) {
      this.sent += 1;
      this.emit({ type: name, text: pieces.join('') });
    }
  }

  /** Drops the timer without sending (the cell is over and nothing may follow). */
  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.held.clear();
  }
}
