import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../../logging/logger.ts';
import type { CellEvent } from '../../sandbox/cell-events.ts';
import { imageOf } from '../../sandbox/cell-outcome.ts';
import { createDockerClient } from '../../sandbox/docker-client.ts';
import { uploadNameProblem, type UploadFile } from '../../sandbox/file-transfer.ts';
import { openNamedSession } from '../../sandbox/named-session.ts';
import { UsageError, type Command, type CommandContext } from '../command.ts';
import { ExitCode } from '../exit-codes.ts';
import { loadConfig } from '../load-config.ts';

const HELP = `Usage: sandbot exec [FILE|-] [options]

Runs Python code as one cell of a sandbox session and prints what it produced. The code
comes from FILE, from -c, or from standard input ("-" or no FILE).

Options:
  -c, --code CODE     the code to run, instead of FILE
  --session ID        run in the named session; later calls with the same ID share its
                      variables and files while it lives (SESSION_IDLE_MINUTES idle)
  --attach PATH       put a file in /mnt/data first (repeatable)
  --out DIR           where images and produced files are written (default ./sandbot-out)
  --timeout S         cell time limit in seconds (default SANDBOX_CELL_TIMEOUT_S)
  --json              print one JSON object: status, stdout, stderr, error, images, files,
                      notices, durationMs, kernelRestarted

Exit status: 0 when the cell ran to the end; 1 when it raised, timed out, ran out of
memory or was killed; 2 for a bad command line; 69 when Docker or the image is missing.`;

interface WrittenFile {
  readonly path: string;
  readonly sizeBytes: number;
}

export const execCommand: Command = {
  name: 'exec',
  summary: 'run Python code in a sandbox session and print the outcome',
  help: HELP,
  async run(args, context) {
    const parsed = parseExecArgs(args);
    const config = loadConfig(context);
    const code = await readCode(parsed, context);
    const uploads = await readAttachments(parsed.attach);
    const logger = createLogger({
      level: config.log.level === 'info' ? 'warn' : config.log.level,
      format: config.log.format,
    });
    const session = await openNamedSession({
      docker: createDockerClient(),
      settings: config.sandbox,
      sessionIdleMs: config.sessionIdleMs,
      logger,
      name: parsed.session,
    });
    try {
      if (uploads.length > 0) await session.sandbox.upload(uploads);
      const controller = new AbortController();
      context.signal.addEventListener('abort', () => controller.abort(), { once: true });
      const events = session.sandbox.execute(code, {
        signal: controller.signal,
        ...(parsed.timeoutMs === undefined ? {} : { timeoutMs: parsed.timeoutMs }),
      });
      const printer = new OutcomePrinter(context, resolve(parsed.out), parsed.json);
      for await (const event of events) await printer.handle(event);
      printer.finish();
      return printer.status === 'ok' ? ExitCode.Ok : ExitCode.Failed;
    } finally {
      await session.close();
    }
  },
};

interface ExecArgs {
  readonly file: string | undefined;
  readonly code: string | undefined;
  readonly session: string | undefined;
  readonly attach: readonly string[];
  readonly out: string;
  readonly json: boolean;
  readonly timeoutMs: number | undefined;
}

function parseExecArgs(args: readonly string[]): ExecArgs {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        code: { type: 'string', short: 'c' },
        session: { type: 'string' },
        attach: { type: 'string', multiple: true },
        out: { type: 'string' },
        json: { type: 'boolean' },
        timeout: { type: 'string' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (positionals.length > 1) throw new UsageError('give at most one FILE');
  if (positionals.length === 1 && values.code !== undefined) {
    throw new UsageError('give either FILE or -c CODE, not both');
  }
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0)
      throw new UsageError('--timeout takes a number of seconds');
    timeoutMs = Math.round(seconds * 1000);
  }
  if (values.session !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(values.session)) {
    throw new UsageError(
      '--session takes 1 to 128 letters, digits and . _ : - (starting with a letter or digit)',
    );
  }
  return {
    file: positionals[0],
    code: values.code,
    session: values.session,
    attach: values.attach ?? [],
    out: values.out ?? 'sandbot-out',
    json: values.json ?? false,
    timeoutMs,
  };
}

async function readCode(args: ExecArgs, context: CommandContext): Promise<string> {
  if (args.code !== undefined) return args.code;
  if (args.file !== undefined && args.file !== '-') {
    try {
      return await readFile(args.file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${args.file}: ${(error as Error).message}`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of context.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function readAttachments(paths: readonly string[]): Promise<UploadFile[]> {
  const files: UploadFile[] = [];
  for (const path of paths) {
    const name = basename(path);
    const problem = uploadNameProblem(name);
    if (problem !== undefined) throw new UsageError(`cannot attach ${path}: ${problem}`);
    try {
      files.push({ name, content: await readFile(path) });
    } catch (error) {
      throw new UsageError(`cannot attach ${path}: ${(error as Error).message}`);
    }
  }
  return files;
}

/** Prints events as they come (or gathers them for --json) and writes images and files. */
class OutcomePrinter {
  status = 'killed';
  private stdout = '';
  private stderr = '';
  private error: Extract<CellEvent, { type: 'error' }> | undefined;
  private readonly results: string[] = [];
  private readonly images: WrittenFile[] = [];
  private readonly files: WrittenFile[] = [];
  private readonly notices: string[] = [];
  private done: Extract<CellEvent, { type: 'done' }> | undefined;

  private readonly context: CommandContext;
  private readonly outDir: string;
  private readonly json: boolean;

  constructor(context: CommandContext, outDir: string, json: boolean) {
    this.context = context;
    this.outDir = outDir;
    this.json = json;
  }

  async handle(event: CellEvent): Promise<void> {
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
      executionCount: this.done?.executionCount ?? null,
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
