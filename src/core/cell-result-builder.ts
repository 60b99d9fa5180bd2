import type { BlobRef } from './blob-store.ts';
import { isSandbotError } from './errors.ts';
import { mimeFromName } from './mime.ts';
import { parseCellUsage, type CellEvent, type JobEvent, type MimeBundle } from './cell-events.ts';
import type { CellError, CellFile, CellResult, RichResult } from './cell-result.ts';
import { parseTable, TABLE_MIME } from './table-data.ts';

/**
 * Where the builder keeps bytes that arrive inline (an image in a display bundle, a file's
 * content in the sandbox's own events). A BlobStore is one; the CLI writes to a directory.
 */
export interface CellBytesSink {
  put(
    content: Buffer,
    meta: { name: string; mime: string; kind: 'image' | 'file' | 'table' },
  ): Promise<BlobRef>;
}

const IMAGE_MIMES = ['image/png', 'image/jpeg'] as const;
const EXTENSIONS: Readonly<Record<(typeof IMAGE_MIMES)[number], string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
};

/**
 * Folds one cell's events into a CellResult, event by event (the CLI prints as they come).
 * Works on the queue's events and on the sandbox's own.
 */
export class CellResultBuilder {
  private readonly sink: CellBytesSink;
  private stdout = '';
  private stderr = '';
  private readonly results: RichResult[] = [];
  private error: CellError | undefined;
  private readonly files: CellFile[] = [];
  private readonly notices: string[] = [];
  private done: Extract<CellEvent | JobEvent, { type: 'done' }> | undefined;
  private imageCount = 0;
  private tableCount = 0;

  constructor(sink: CellBytesSink) {
    this.sink = sink;
  }

  async add(event: CellEvent | JobEvent): Promise<void> {
    switch (event.type) {
      case 'started':
        return;
      case 'stdout':
        this.stdout += event.text;
        return;
      case 'stderr':
        this.stderr += event.text;
        return;
      case 'display':
        this.results.push(await this.richResult(event.kind, event.data));
        return;
      case 'error':
        this.error = { ename: event.ename, evalue: event.evalue, traceback: event.traceback };
        return;
      case 'file': {
        const blob =
          'blob' in event
            ? event.blob
            : await this.sink.put(event.content, {
                name: event.path,
                mime: mimeFromName(event.path),
                kind: 'file',
              });
        this.files.push({ path: event.path, blob });
        return;
      }
      case 'notice':
        this.notices.push(event.text);
        return;
      case 'done':
        this.done = event;
        return;
    }
  }

  finish(): CellResult {
    const done = this.done;
    // The queue promises a `done`; a stream that ends without one still gets an outcome.
    const message =
      done === undefined
        ? 'The cell ended without reporting how.'
        : 'message' in done
          ? done.message
          : undefined;
    const executionCount =
      done !== undefined && 'executionCount' in done ? done.executionCount : undefined;
    // Checked: the figures cross the queue as JSON.
    const usage = parseCellUsage(done?.usage);
    return {
      status: done?.status ?? 'lost',
      ...(message === undefined ? {} : { message }),
      stdout: this.stdout,
      stderr: this.stderr,
      results: this.results,
      ...(this.error === undefined ? {} : { error: this.error }),
      files: this.files,
      notices: this.notices,
      durationMs: done?.durationMs ?? 0,
      kernelRestarted: done?.kernelRestarted ?? false,
      ...(executionCount === undefined ? {} : { executionCount }),
      ...(usage === undefined ? {} : { usage }),
    };
  }

  /** A table's data out of the bundle, its CSV into the sink; then the image (below). */
  private async richResult(kind: RichResult['kind'], bundle: MimeBundle): Promise<RichResult> {
    const tableValue = bundle[TABLE_MIME];
    if (tableValue === undefined) return this.imageResult(kind, bundle);
    const rest = Object.fromEntries(Object.entries(bundle).filter(([mime]) => mime !== TABLE_MIME));
    const parsed = parseTable(tableValue);
    if (parsed === undefined) return this.imageResult(kind, rest);
    const result = { ...(await this.imageResult(kind, rest)), table: parsed.table };
    if (parsed.csv === undefined) return result;
    this.tableCount += 1;
    try {
      const csv = await this.sink.put(Buffer.from(parsed.csv.text), {
        name: `table-${this.tableCount}.csv`,
        mime: 'text/csv',
        kind: 'table',
      });
      return { ...result, csv, csvRows: parsed.csv.rows };
    } catch (error) {
      if (!isSandbotError(error, 'BLOB_TOO_LARGE')) throw error;
      return result;
    }
  }

  /** Moves a PNG or JPEG out of the bundle into the sink; the text forms stay. */
  private async imageResult(kind: RichResult['kind'], bundle: MimeBundle): Promise<RichResult> {
    const mime = IMAGE_MIMES.find((m) => bundle[m] !== undefined);
    if (mime === undefined) return { kind, data: { ...bundle } };
    const data: Record<string, string> = {};
    for (const [type, value] of Object.entries(bundle)) if (type !== mime) data[type] = value;
    const content = Buffer.from(bundle[mime] ?? '', 'base64');
    this.imageCount += 1;
    try {
      const image = await this.sink.put(content, {
        name: `image-${this.imageCount}.${EXTENSIONS[mime]}`,
        mime,
        kind: 'image',
      });
      return { kind, data, image };
    } catch (error) {
      if (!isSandbotError(error, 'BLOB_TOO_LARGE')) throw error;
      this.notices.push(`An image was too large to keep (${error.message}).`);
      return { kind, data };
    }
  }
}

/** The CellResult of a cell's complete events. */
export async function buildCellResult(
  events: Iterable<CellEvent | JobEvent> | AsyncIterable<CellEvent | JobEvent>,
  sink: CellBytesSink,
): Promise<CellResult> {
  const builder = new CellResultBuilder(sink);
  for await (const event of events) await builder.add(event);
  return builder.finish();
}
