import { failureText } from '../core/cell-result.ts';
import { formatBytes } from '../core/bytes.ts';
import { exportNotebook } from '../sessions/notebook-export.ts';
import { emptySession, type SessionFile } from '../core/session-store.ts';
import { HELP_TEXT } from './help-text.ts';
import type { CommandName } from './parse-message.ts';
import { textReply, type Reply } from '../core/reply.ts';
import { runJob } from './run-job.ts';
import type { TurnContext } from './turn-context.ts';
import { usageLine } from './usage-text.ts';
import { installCommand, packagesCommand } from '../packages/package-commands.ts';

/** One command of every surface, answering one message. */
export type CommandHandler = (turn: TurnContext, argument: string) => Promise<Reply>;

// Commands that control the kernel are not the user's cell: Stop does not reach them.
const uninterruptible = () => new AbortController().signal;

async function stop(turn: TurnContext): Promise<Reply> {
  // Reaching here means it was queued behind nothing: there is nothing to stop.
  await turn.save();
  return textReply('Nothing is running.', turn.refusals);
}

async function help(turn: TurnContext): Promise<Reply> {
  await turn.save();
  return textReply(HELP_TEXT, turn.refusals);
}

async function reset(turn: TurnContext): Promise<Reply> {
  const { services, message } = turn;
  const result = await runJob(
    services,
    { sessionId: message.sessionKey, code: '', command: 'reset' },
    uninterruptible(),
  );
  await services.sessions.save({ ...emptySession(message.sessionKey), updatedAt: Date.now() });
  return textReply(
    failureText(result) ??
      'Fresh start: new kernel, no variables, empty /mnt/data, and I forgot this thread.',
    turn.refusals,
  );
}

/** Drops the thread's checkpoint; the kernel keeps its variables while it lives. */
async function forget(turn: TurnContext): Promise<Reply> {
  const { services, message } = turn;
  const result = await runJob(
    services,
    { sessionId: message.sessionKey, code: '', command: 'forget' },
    uninterruptible(),
  );
  await turn.save();
  return textReply(result.notices[0] ?? failureText(result) ?? 'Done.', turn.refusals);
}

async function status(turn: TurnContext): Promise<Reply> {
  const { services, message } = turn;
  const uploads = turn.accepted.map((f) => f.blob);
  const result = await runJob(
    services,
    { sessionId: message.sessionKey, code: '', command: 'status', uploads },
    uninterruptible(),
  );
  await turn.save();
  const lines = [
    result.notices[0] ?? failureText(result) ?? 'Kernel state unknown.',
    `${turn.session.cells.length} cell(s) run in this thread; ${turn.files.length} file(s).`,
    services.model === undefined
      ? 'No model configured: only direct code runs.'
      : `Model: ${services.model.name}.`,
    ...(await usageLines(turn)),
  ];
  return textReply(lines.join('\n'), turn.refusals);
}

/** The thread's usage so far, and today's for the asker and the channel (src/metering/). */
async function usageLines(turn: TurnContext): Promise<string[]> {
  const usage = turn.services.usage;
  const meters = usage?.meters;
  if (usage === undefined || meters === undefined) return [];
  const { scopes, day } = turn.meter;
  const [thread, user, channel] = await Promise.all([
    meters.read({ scope: scopes.thread, period: 'total' }),
    meters.read({ scope: scopes.user, period: day }),
    meters.read({ scope: scopes.channel, period: day }),
  ]);
  const { currency, timeZone } = usage.settings;
  return [
    usageLine('This thread', thread, currency),
    usageLine(`You today (${day}, ${timeZone})`, user, currency),
    usageLine('This channel today', channel, currency),
  ];
}

async function files(turn: TurnContext, name: string): Promise<Reply> {
  await turn.save();
  const current = latestByName(turn.files);
  if (name === '') return listFiles(current, turn.refusals);
  const wanted = current.find((f) => f.name === name);
  if (wanted === undefined)
    return textReply(
      `There is no file called \`${name}\` in this thread. Say \`files\` for the list.`,
      turn.refusals,
    );
  const blob = await turn.services.blobs.get(wanted.blob.id);
  if (blob === undefined)
    return textReply(
      `\`${name}\` has expired from storage; ask me to make it again.`,
      turn.refusals,
    );
  return {
    text: '',
    code: [],
    images: [],
    files: [{ name: wanted.name, content: blob.content, mime: wanted.blob.mime }],
    notices: [...turn.refusals],
  };
}

function listFiles(current: readonly SessionFile[], refusals: readonly string[]): Reply {
  if (current.length === 0)
    return textReply('No files in this thread yet. Attach one, or ask me to make one.', refusals);
  const list = current.map(
    (f) =>
      `- \`${f.name}\` (${formatBytes(f.blob.sizeBytes)}, ${f.origin === 'upload' ? 'uploaded' : 'made here'})`,
  );
  return textReply(
    `Files in /mnt/data:\n${list.join('\n')}\n\nSay \`files NAME\` to get one back.`,
    refusals,
  );
}

async function exportThread(turn: TurnContext): Promise<Reply> {
  await turn.save();
  const { cells } = turn.session;
  if (cells.length === 0)
    return textReply('Nothing to export yet: no code has run in this thread.', turn.refusals);
  const notebook = await exportNotebook(
    cells,
    { title: `sandbot thread ${turn.message.sessionKey}` },
    turn.services.blobs,
  );
  return {
    text: `The ${cells.length} cell(s) of this thread, with their outputs.`,
    code: [],
    images: [],
    files: [
      { name: 'thread.ipynb', content: Buffer.from(notebook), mime: 'application/x-ipynb+json' },
    ],
    notices: [...turn.refusals],
  };
}

/** A file's latest version under each name (a later upload or output replaces it). */
function latestByName(all: readonly SessionFile[]): SessionFile[] {
  const byName = new Map<string, SessionFile>();
  for (const file of all) byName.set(file.name, file);
  return [...byName.values()];
}

export const COMMAND_HANDLERS: Readonly<Record<Exclude<CommandName, 'run'>, CommandHandler>> = {
  stop,
  help,
  reset,
  forget,
  status,
  files,
  export: exportThread,
  install: installCommand,
  packages: packagesCommand,
};
