import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import type { InboundAttachment } from '../../core/inbound-message.ts';
import { displaysAsText } from '../../render/display-text.ts';
import type { Reply, ThreadReply } from '../../core/reply.ts';
import { createLogger } from '../../logging/logger.ts';
import { buildCore } from '../../runtime/core.ts';
import { UsageError, type Command, type CommandContext } from '../command.ts';
import { ExitCode } from '../exit-codes.ts';
import { loadConfig } from '../load-config.ts';

const HELP = `Usage: sandbot chat [-m MESSAGE] [--attach FILE]... [--session ID] [--out DIR]

Talks to sandbot in the terminal, with the same core as Slack, Discord and the playground.
With -m it answers one message and exits; without it, it is an interactive conversation
(type "exit" or Ctrl-D to leave). Commands work as everywhere: run, reset, files, stop,
export, status, help. Images and files are written to --out (default ./sandbot-out).

--session ID continues a thread across invocations. With REDIS_URL its kernel lives on a
worker and keeps its variables; without Redis the conversation and its files are kept in the
SQLite file under SANDBOT_DATA_DIR, but the kernel ends with this process: the next
invocation starts a fresh one with the thread's files put back.

SIGTERM or Ctrl-C stops the running cell and exits (within 10 s); a second one exits at once.

Exit status: 0 on success; 1 when a turn failed; 69 when Docker (REDIS_URL unset) or
Redis (REDIS_URL set) is unreachable; 78 for invalid settings.`;

export const chatCommand: Command = {
  name: 'chat',
  summary: 'talk to sandbot in the terminal (one message with -m, or interactive)',
  help: HELP,
  async run(args, context) {
    let values;
    try {
      ({ values } = parseArgs({
        args: [...args],
        options: {
          message: { type: 'string', short: 'm' },
          attach: { type: 'string', multiple: true },
          session: { type: 'string' },
          out: { type: 'string' },
        },
      }));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (
      values.session !== undefined &&
      !/^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/.test(values.session)
    ) {
      throw new UsageError('--session takes 1 to 100 letters, digits and . _ @ -');
    }
    const config = loadConfig(context);
    const logger = createLogger({
      level: config.log.level === 'info' ? 'warn' : config.log.level,
      format: config.log.format,
    });
    const core = await buildCore(config, logger, { embeddedWorkerId: `chat-${process.pid}` });
    const sessionKey = `terminal:local:cli:${values.session ?? randomUUID().slice(0, 8)}`;
    const outDir = resolve(values.out ?? 'sandbot-out');
    const user = context.env.USER ?? 'you';
    const author = { id: user, name: user };
    const attachments = await readAttachments(values.attach ?? []);
    try {
      const say = async (text: string, files: InboundAttachment[] = []) => {
        await core.conversation.handle(
          { sessionKey, author, text, attachments: files },
          printer(context, outDir),
        );
      };
      const interactive = values.message === undefined;
      const lines = interactive
        ? createInterface({ input: context.stdin, output: context.stdout, terminal: false })
        : undefined;
      stopOnSignal(context, lines, () =>
        core.conversation.handle(
          { sessionKey, author, text: 'stop', attachments: [] },
          printer(context, outDir),
        ),
      );
      if (lines === undefined) {
        await say(values.message ?? '', attachments);
        return ExitCode.Ok;
      }
      await converse(lines, context, say, attachments);
      return ExitCode.Ok;
    } finally {
      await core.close();
    }
  },
};

/**
 * SIGTERM or Ctrl-C: stop the running turn (the cell is interrupted, as with "stop") and stop
 * reading; the command's `finally` then removes this process's sandboxes.
 */
function stopOnSignal(
  context: CommandContext,
  lines: ReturnType<typeof createInterface> | undefined,
  stop: () => Promise<void>,
): void {
  const onAbort = () => {
    lines?.close();
    context.stdin.pause();
    void stop().catch(() => undefined);
  };
  if (context.signal.aborted) onAbort();
  else context.signal.addEventListener('abort', onAbort, { once: true });
}

/** The interactive loop: a prompt, a turn per line, until "exit", end of input or a signal. */
async function converse(
  lines: ReturnType<typeof createInterface>,
  context: CommandContext,
  say: (text: string, files: InboundAttachment[]) => Promise<void>,
  attachments: InboundAttachment[],
): Promise<void> {
  context.stdout.write('sandbot: ask me anything ("help" for commands, "exit" to leave)\n> ');
  let pending = attachments;
  for await (const line of lines) {
    if (line.trim() === 'exit' || line.trim() === 'quit') break;
    if (line.trim() !== '') await say(line, pending);
    pending = [];
    context.stdout.write('> ');
  }
  // "exit" leaves with stdin still open; let go of it so the process can end.
  lines.close();
  context.stdin.pause();
}

async function readAttachments(paths: readonly string[]): Promise<InboundAttachment[]> {
  return Promise.all(
    paths.map(async (path) => {
      let content: Buffer;
      try {
        content = await readFile(path);
      } catch (error) {
        throw new UsageError(`cannot attach ${path}: ${(error as Error).message}`);
      }
      return {
        name: basename(path),
        sizeBytes: content.length,
        fetch: () => Promise.resolve(content),
      };
    }),
  );
}

/**
 * The terminal's side of a thread: progress on stderr (the answer as it is written too, as
 * chat platforms show it in their status message), the answer on stdout, files to disk. The
 * final answer on stdout stays whole, so piping it gives exactly the answer.
 */
/** A table block's size on a terminal: the text table's own row and width bounds decide. */
const TERMINAL_TABLE_CHARS = 100_000;

function printer(context: CommandContext, outDir: string): ThreadReply {
  /** Whether stderr is in the middle of a streamed answer (its last line not ended). */
  let answering = false;
  const endAnswer = () => {
    if (answering) context.stderr.write('\n');
    answering = false;
  };
  return {
    progress(update) {
      if (update.type === 'answering') {
        if (update.text === '') return;
        if (!answering) context.stderr.write('[answering]\n');
        answering = true;
        context.stderr.write(update.text);
        return;
      }
      endAnswer();
      if (update.type === 'running') context.stderr.write(`[running]\n${update.code}\n`);
    },
    async reply(reply: Reply) {
      endAnswer();
      if (reply.text !== '') context.stdout.write(`${reply.text}\n`);
      // Tables as aligned text with a caption (their CSV goes to disk when cut), Markdown as it
      // is, JSON and formulas as code: a terminal has no other way to show them.
      const displays = displaysAsText(reply.displays ?? [], TERMINAL_TABLE_CHARS);
      for (const block of displays.blocks) context.stdout.write(`${block}\n`);
      for (const notice of reply.notices) context.stdout.write(`! ${notice}\n`);
      const attachments = [...reply.images, ...displays.attachments, ...reply.files];
      if (attachments.length > 0) await mkdir(outDir, { recursive: true });
      for (const attachment of attachments) {
        const path = join(outDir, basename(attachment.name));
        await writeFile(path, attachment.content);
        context.stdout.write(
          `[${attachment.mime.startsWith('image/') ? 'image' : 'file'}] ${path}\n`,
        );
      }
    },
  };
}
