import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BlobRef } from '../core/blob-store.ts';
import type { CellEvent, JobEvent } from '../core/cell-events.ts';
import { CellResultBuilder, type CellBytesSink } from '../core/cell-result-builder.ts';
import { cellImages, type CellResult } from '../core/cell-result.ts';
import type { CommandContext } from './command.ts';

/**
 * The sandbox's own events (direct exec) or the queue's with file bytes fetched (queued
 * exec); a `started` is ignored.
 */
export type PrintableEvent = CellEvent | Exclude<JobEvent, { type: 'file' }>;

/**
 * Prints events as they come (or, for --json, one object at the end, read from the cell's
 * CellResult) and writes images and files to the output directory.
 */
export class OutcomePrinter {
  private readonly context: CommandContext;
  private readonly json: boolean;
  private readonly builder: CellResultBuilder;
  private result: CellResult | undefined;

  constructor(context: CommandContext, outDir: string, json: boolean) {
    this.context = context;
    this.json = json;
    this.builder = new CellResultBuilder(
      new DirectorySink(outDir, (line) => {
        if (!json) context.stderr.write(line);
      }),
    );
  }

  /** How the cell ended; `killed` until it has. */
  get status(): string {
    return this.result?.status ?? 'killed';
  }

  async handle(event: PrintableEvent): Promise<void> {
    await this.builder.add(event);
    if (event.type === 'done') this.result = this.builder.finish();
    if (!this.json) this.printLive(event);
  }

  finish(): void {
    const result = this.result ?? this.builder.finish();
    if (!this.json) {
      if (result.status !== 'ok' && result.status !== 'error') {
        this.context.stderr.write(`sandbot: cell ended: ${result.status}\n`);
      }
      return;
    }
    const written = (ref: BlobRef) => ({ path: ref.id, sizeBytes: ref.sizeBytes });
    const out = {
      status: this.result?.status ?? 'killed',
      stdout: result.stdout,
      stderr: result.stderr,
      results: result.results.flatMap((r) =>
        r.image === undefined && r.data['text/plain'] !== undefined ? [r.data['text/plain']] : [],
      ),
      error:
        result.error === undefined
          ? null
          : {
              name: result.error.ename,
              value: result.error.evalue,
              traceback: result.error.traceback,
            },
      images: cellImages(result).map(written),
      files: result.files.map((f) => written(f.blob)),
      notices: [...result.notices, ...(result.message === undefined ? [] : [result.message])],
      durationMs: this.result?.durationMs ?? null,
      kernelRestarted: result.kernelRestarted,
    };
    this.context.stdout.write(`${JSON.stringify(out)}\n`);
  }

  /** Output as it happens; images and files are announced by the sink as they are written. */
  private printLive(event: PrintableEvent): void {
    const { stdout, stderr } = this.context;
    switch (event.type) {
      case 'stdout':
        stdout.write(event.text);
        return;
      case 'stderr':
        stderr.write(event.text);
        return;
      case 'display': {
        const hasImage = event.data['image/png'] ?? event.data['image/jpeg'];
        const text = event.data['text/plain'];
        if (hasImage === undefined && text !== undefined) stdout.write(`${text}\n`);
        return;
      }
      case 'error':
        stderr.write(`${event.traceback.join('\n')}\n`);
        return;
      case 'notice':
        stderr.write(`sandbot: ${event.text}\n`);
        return;
      case 'done':
        if ('message' in event) stderr.write(`sandbot: ${event.message}\n`);
        return;
      default:
        return;
    }
  }
}

/** Keeps a cell's images and files as files in the output directory; the path is the id. */
class DirectorySink implements CellBytesSink {
  private readonly outDir: string;
  private readonly announce: (line: string) => void;
  private readonly images: string[] = [];

  constructor(outDir: string, announce: (line: string) => void) {
    this.outDir = outDir;
    this.announce = announce;
  }

  async put(
    content: Buffer,
    meta: { name: string; mime: string; kind: 'image' | 'file' },
  ): Promise<BlobRef> {
    const path =
      meta.kind === 'image'
        ? this.freeImageName(meta.mime === 'image/png' ? 'png' : 'jpg')
        : join(this.outDir, meta.name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
    this.announce(`[${meta.kind}] ${path}\n`);
    return { id: path, name: meta.name, sizeBytes: content.length, mime: meta.mime };
  }

  private freeImageName(ext: string): string {
    for (let n = 1; ; n += 1) {
      const candidate = join(this.outDir, `image-${n}.${ext}`);
      if (!existsSync(candidate) && !this.images.includes(candidate)) {
        this.images.push(candidate);
        return candidate;
      }
    }
  }
}
