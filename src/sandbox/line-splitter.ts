import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a byte stream into lines, refusing any line longer than `maxLineChars` so a runaway
 * frame cannot exhaust the worker's memory. UTF-8 sequences split across chunks are kept whole.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  private readonly maxLineChars: number;
  private readonly onLine: (line: string) => void;
  private readonly onOverflow: () => void;

  constructor(maxLineChars: number, onLine: (line: string) => void, onOverflow: () => void) {
    this.maxLineChars = maxLineChars;
    this.onLine = onLine;
    this.onOverflow = onOverflow;
  }

  push(chunk: Buffer): void {
    const text = this.pending + this.decoder.write(chunk);
    let start = 0;
    let newline = text.indexOf('\n', start);
    while (newline !== -1) {
      this.onLine(text.slice(start, newline));
      start = newline + 1;
      newline = text.indexOf('\n', start);
    }
    const rest = text.slice(start);
    if (rest.length > this.maxLineChars) {
      this.pending = '';
      this.onOverflow();
      return;
    }
    this.pending = rest;
  }
}
