import type { StreamEvent } from '../core/cell-events.ts';

/** At most one stream event this often: a cell printing in a loop is not a Redis entry a line. */
const FLUSH_INTERVAL_MS = 100;
/** Past this many stream events a cell's further output waits for its end, which bounds the
 *  entries of a job's event stream whatever the cell's duration. */
const MAX_STREAM_EVENTS = 1000;

/**
 * Joins a cell's stream writes into fewer events: the first write goes out at once, later ones
 * within the interval are held and sent together. Stdout and stderr keep their order: a write
 * to the other stream sends what is held first (until the cap). `flush()` sends everything held (before a
 * display, an error or the end of the cell).
 */
export class StreamCoalescer {
  /** Held text by stream, in the order first written; one stream at a time until the cap. */
  private readonly held = new Map<StreamEvent['type'], string[]>();
  private timer: NodeJS.Timeout | undefined;
  private lastFlushAt = -Infinity;
  private sent = 0;
  private readonly emit: (event: StreamEvent) => void;

  constructor(emit: (event: StreamEvent) => void) {
    this.emit = emit;
  }

  push(name: StreamEvent['type'], text: string): void {
    const capped = this.sent >= MAX_STREAM_EVENTS;
    // Past the cap, order between stdout and stderr gives way to the bound on events.
    if (!capped && this.held.size > 0 && !this.held.has(name)) this.flush();
    const pieces = this.held.get(name);
    if (pieces === undefined) this.held.set(name, [text]);
    else pieces.push(text);
    if (this.timer !== undefined || capped) return;
    const waitMs = this.lastFlushAt + FLUSH_INTERVAL_MS - performance.now();
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
