import { constants } from 'node:fs';
import { lstat, open, readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatBytes } from '../../core/bytes.ts';
import type { Config } from '../../core/config.ts';
import { createLogger, type Logger } from '../../logging/logger.ts';
import { createDockerClient } from '../../sandbox/docker-client.ts';
import { uploadNameProblem } from '../../core/file-names.ts';
import type { UploadFile } from '../../sandbox/file-transfer.ts';
import { openNamedSession } from '../../sandbox/named-session.ts';
import { UsageError, type Command, type CommandContext } from '../command.ts';
import { ExitCode } from '../exit-codes.ts';
import { loadConfig } from '../load-config.ts';
import { OutcomePrinter } from '../outcome-printer.ts';
import { runQueued, type ExecRequest } from './exec-queued.ts';

const HELP = `Usage: sandbot exec [FILE|-] [options]

Runs Python code as one cell of a sandbox session and prints what it produced. The code
comes from FILE, from -c, or from standard input ("-" or no FILE).

Options:
  -c, --code CODE     the code to run, instead of FILE
  --session ID        run in the named session; later calls with the same ID share its
                      variables and files while it lives (SESSION_IDLE_MINUTES idle)
  --attach PATH       put a file in /mnt/data first (repeatable); a regular file, not a
                      symbolic link, within MAX_ATTACHMENT_MB, at most MAX_ATTACHMENTS
  --out DIR           where images and produced files are written (default ./sandbot-out)
  --timeout S         cell time limit in seconds (default SANDBOX_CELL_TIMEOUT_S)
  --json              print one JSON object: status, stdout, stderr, error, images, files,
                      notices, durationMs, kernelRestarted

SIGTERM or Ctrl-C interrupts the cell; if it has not ended 5 s later (its worker is gone),
exec stops waiting and exits 1. A second signal exits at once.

Exit status: 0 when the cell ran to the end; 1 when it raised, timed out, ran out of
memory, was killed or lost; 2 for a bad command line; 69 when Docker, the image or Redis
(REDIS_URL set) is unreachable.`;

export const execCommand: Command = {
  name: 'exec',
  summary: 'run Python code in a sandbox session and print the outcome',
  help: HELP,
  async run(args, context) {
    const parsed = parseExecArgs(args);
    const config = loadConfig(context);
    const code = await readCode(parsed, context);
    const uploads = await readAttachments(parsed.attach, config.agent);
    const logger = createLogger({
      level: config.log.level === 'info' ? 'warn' : config.log.level,
      format: config.log.format,
    });
    const printer = new OutcomePrinter(context, resolve(parsed.out), parsed.json);
    const request = {
      code,
      uploads,
      sessionName: parsed.session,
      timeoutMs: parsed.timeoutMs,
      signal: context.signal,
    };
    // With REDIS_URL the cell goes through the queue to a `sandbot worker`; without it, this
    // process drives a sandbox itself.
    if (config.redisUrl !== undefined) {
      await runQueued(
        { ...request, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, logger },
        printer,
      );
    } else {
      await runDirect(request, config, logger, printer);
    }
    printer.finish();
    return printer.status === 'ok' ? ExitCode.Ok : ExitCode.Failed;
  },
};

async function runDirect(
  request: ExecRequest,
  config: Config,
  logger: Logger,
  printer: OutcomePrinter,
): Promise<void> {
  const session = await openNamedSession({
    docker: createDockerClient(),
    settings: config.sandbox,
    sessionIdleMs: config.sessionIdleMs,
    logger,
    name: request.sessionName,
  });
  try {
    if (request.uploads.length > 0) await session.sandbox.upload(request.uploads);
    const controller = new AbortController();
    request.signal.addEventListener('abort', () => controller.abort(), { once: true });
    const events = session.sandbox.execute(request.code, {
      signal: controller.signal,
      ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
    });
    for await (const event of events) await printer.handle(event);
  } finally {
    await session.close();
  }
}

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

type AttachmentLimits = Pick<Config['agent'], 'maxAttachments' | 'maxAttachmentBytes'>;

/** The rules of chat uploads: the count and size limits, checked names, no links followed. */
async function readAttachments(
  paths: readonly string[],
  limits: AttachmentLimits,
): Promise<UploadFile[]> {
  if (paths.length > limits.maxAttachments) {
    throw new UsageError(
      `at most ${limits.maxAttachments} files can be attached (MAX_ATTACHMENTS); got ${paths.length}`,
    );
  }
  const files: UploadFile[] = [];
  for (const path of paths) {
    const name = basename(path);
    const problem = uploadNameProblem(name);
    if (problem !== undefined) throw new UsageError(`cannot attach ${path}: ${problem}`);
    files.push({ name, content: await readAttachment(path, limits.maxAttachmentBytes) });
  }
  return files;
}

/**
 * Reads a regular file without following a symbolic link: lstat names the problem clearly,
 * and O_NOFOLLOW holds if the path becomes a link after it (O_NONBLOCK so a FIFO cannot
 * block the open). Never reads more than the limit allows.
 */
async function readAttachment(path: string, maxBytes: number): Promise<Buffer> {
  const refuse = (why: string) => new UsageError(`cannot attach ${path}: ${why}`);
  const linkProblem = 'it is a symbolic link; attach the file it points to instead';
  try {
    if ((await lstat(path)).isSymbolicLink()) throw refuse(linkProblem);
    const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
    const handle = await open(path, flags);
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw refuse('it is not a regular file');
      if (stats.size > maxBytes) {
        throw refuse(
          `it is ${formatBytes(stats.size)}, over the ${formatBytes(maxBytes)} limit per file (MAX_ATTACHMENT_MB)`,
        );
      }
      const buffer = Buffer.alloc(stats.size);
      const { bytesRead } = await handle.read(buffer, 0, stats.size, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw refuse(linkProblem);
    throw refuse((error as Error).message);
  }
}
