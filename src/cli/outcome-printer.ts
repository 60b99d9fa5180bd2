import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { JobStatus } from '../jobs/job.ts';
import type { CellEvent } from '../sandbox/cell-events.ts';
import { imageOf } from '../sandbox/cell-outcome.ts';
import type { CommandContext } from './command.ts';

interface WrittenFile {
  readonly path: string;
  readonly sizeBytes: number;
}

/** A cell event, or the end of a job that went through the queue (which can be lost). */
export type PrintableEvent =
  | Exclude<CellEvent, { type: 'done' }>
  | {
      readonly type: 'done';
      readonly status: JobStatus;
      readonly durationMs: number;
      readonly kernelRestarted: boolean;
      readonly message?: string;
    };

/** Prints events as they come (or gathers them for --json) and writes images and files. */
export class OutcomePrinter {
  status = 'killed';
  private stdout = '';
  private stderr = '';
  private error: Extract<CellEvent, { type: 'error' }> | undefined;
  private readonly results: string[] = [];
  private readonly images: WrittenFile[] = [];
  private readonly files: WrittenFile[] = [];
  private readonly notices: string[] = [];
  private done: Extract<PrintableEvent, { type: 'done' }> | undefined;

  private readonly context: CommandContext;
  private readonly outDir: string;
  private readonly json: boolean;

  constructor(context: CommandContext, outDir: string, json: boolean) {
    this.context = context;
    this.outDir = outDir;
    this.json = json;
  }

  async handle(event: PrintableEvent): Promise<void> {
    const live = !this.json;
    switch (event.type) {
      case 'stdout':
        this.stdout += event.text;
        if (live) this.context.stdout.write(event.text);
        return;
      case 'stderr':
        this.stderr += event.text;
        if (live) this.context.stderr.write(event.text);
        return;
      case 'display': {
        const image = imageOf(event.data);
        if (image !== undefined) {
          const ext = image.mime === 'image/png' ? 'png' : 'jpg';
          const path = await this.write(this.freeName(`image`, ext), image.content);
          this.images.push({ path, sizeBytes: image.content.length });
          if (live) this.context.stderr.write(`[image] ${path}\n`);
          return;
        }
        const text = event.data['text/plain'];
        if (text !== undefined) {
          this.results.push(text);
          if (live) this.context.stdout.write(`${text}\n`);
        }
        return;
      }
      case 'error':
        this.error = event;
        if (live) this.context.stderr.write(`${event.traceback.join('\n')}\n`);
        return;
      case 'file': {
        const path = await this.write(join(this.outDir, event.path), event.content);
        this.files.push({ path, sizeBytes: event.content.length });
        if (live) this.context.stderr.write(`[file] ${path}\n`);
        return;
      }
      case 'notice':
        this.notices.push(event.text);
        if (live) this.context.stderr.write(`sandbot: ${event.text}\n`);
        return;
      case 'done':
        this.done = event;
        this.status = event.status;
        if (event.message !== undefined) {
          this.notices.push(event.message);
          if (live) this.context.stderr.write(`sandbot: ${event.message}\n`);
        }
        return;
    }
  }

  finish(): void {
    if (!this.json) {
      if (this.status !== 'ok' && this.status !== 'error') {
        this.context.stderr.write(`sandbot: cell ended: ${this.status}\n`);
      }
      return;
    }
    const out = {
      status: this.status,
      stdout: this.stdout,
      stderr: this.stderr,
      results: this.results,
      error:
        this.error === undefined
          ? null
          : { name: this.error.ename, value: this.error.evalue, traceback: this.error.traceback },
      images: this.images,
      files: this.files,
      notices: this.notices,
      durationMs: this.done?.durationMs ?? null,
      kernelRestarted: this.done?.kernelRestarted ?? false,
    };
    this.context.stdout.write(`${JSON.stringify(out)}\n`);
  }

  private freeName(stem: string, ext: string): string {
    for (let n = 1; ; n += 1) {
      const candidate = join(this.outDir, `${stem}-${n}.${ext}`);
      if (!existsSync(candidate) && !this.images.some((i) => i.path === candidate))
        return candidate;
    }
  }

  private async write(path: string, content: Buffer): Promise<string> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
    return path;
  }
}
