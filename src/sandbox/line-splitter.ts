import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a byte stream into lines, refusing any line longer than `maxLineChars` so a runaway
 * frame cannot exhaust the worker's memory. UTF-8 sequences split across chunks are kept whole.
 * Partial lines are kept as a list of pieces, so a long line costs linear time, not quadratic.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pieces: string[] = [];
  private pendingChars = 0;
  private overflowed = false;
  /** May be lowered or raised between chunks (a cell sizes frames by its output limit). */
  maxLineChars: number;
  private readonly onLine: (line: string) => void;
  private readonly onOverflow: () => void;

  constructor(maxLineChars: number, onLine: (line: string) => void, onOverflow: () => void) {
    this.maxLineChars = maxLineChars;
    this.onLine = onLine;
    this.onOverflow = onOverflow;
  }

  push(chunk: Buffer): void {
    if (this.overflowed) return;
    const text = this.decoder.write(chunk);
    let start = 0;
    let newline = text.indexOf('\n', start);
    while (newline !== -1) {
      const tail = text.slice(start, newline);
      const line = this.pieces.length === 0 ? tail : this.pieces.join('') + tail;
      this.pieces = [];
      this.pendingChars = 0;
      this.onLine(line);
      start = newline + 1;
      newline = text.indexOf('\n', start);
    }
    const rest = text.slice(start);
    if (rest.length === 0) return;
    this.pendingChars += rest.length;
    if (this.pendingChars > this.maxLineChars) {
      this.overflowed = true;
      this.pieces = [];
      this.onOverflow();
      return;
    }
    this.pieces.push(rest);
  }
}
