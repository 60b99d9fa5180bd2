import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { runAgentTurn } from '../agent/agent-turn.ts';
import { formatBytes } from '../core/bytes.ts';
import { producedFiles, replyForCells } from './cell-reply.ts';
import { COMMAND_HANDLERS } from './commands.ts';
import { NO_MODEL_TEXT, RUN_USAGE_TEXT } from './help-text.ts';
import type { ParsedMessage } from './parse-message.ts';
import { textReply, type Reply } from '../core/reply.ts';
import { promptForTurn } from './turn-prompt.ts';
import type { TurnContext } from './turn-context.ts';
import { agentInstaller } from '../packages/package-commands.ts';

/** Answers one message: a command, direct code, or a question for the model. */
export async function runTurn(turn: TurnContext, parsed: ParsedMessage): Promise<Reply> {
  switch (parsed.kind) {
    case 'usage':
      await turn.save();
      return textReply(RUN_USAGE_TEXT, turn.refusals);
    case 'code':
      return runDirectCode(turn, parsed.code);
    case 'command':
      return COMMAND_HANDLERS[parsed.name](turn, parsed.argument);
    case 'chat':
      return runChat(turn, parsed.text);
  }
}

/** A python block or `run`: the code runs as it is, its output is the answer. */
async function runDirectCode(turn: TurnContext, code: string): Promise<Reply> {
  turn.thread.progress({ type: 'running', code });
  const uploads = turn.accepted.map((f) => f.blob);
  const cells = [{ code, result: await turn.runCell(code, uploads) }];
  const reply = await replyForCells('', cells, turn.refusals, turn.services.blobs);
  await turn.save({
    cells: [...turn.session.cells, ...cells],
    files: [...turn.files, ...producedFiles(cells)],
  });
  return reply;
}

/** Plain text: the model answers, running cells as it goes. */
async function runChat(turn: TurnContext, text: string): Promise<Reply> {
  const { services, session, thread, accepted } = turn;
  const uploads = accepted.map((f) => f.blob);
  // Attachments go to /mnt/data before anything else, whether or not a model is there.
  if (uploads.length > 0) await turn.runCell('', uploads);
  const model = services.model;
  if (model === undefined) {
    await turn.save();
    return textReply(NO_MODEL_TEXT, turn.refusals);
  }
  thread.progress({ type: 'thinking' });
  turn.meter.source = 'model';
  const resume = turn.agentSteps?.resume;
  turn.skipCells(resume?.cells.length ?? 0);
  const attached = accepted.map(
    (f) => `[attached: /mnt/data/${f.name}, ${formatBytes(f.blob.sizeBytes)}, ${f.blob.mime}]`,
  );
  const userMessage = [`${turn.message.author.name}: ${text}`, ...attached].join('\n');
  const prompt = await promptForTurn(services, model.client, session.transcript, userMessage);
  const result = await runAgentTurn({
    client: model.client,
    model: model.name,
    ...prompt,
    userMessage,
    runCell: (code, cellSignal) => turn.runCell(code, [], cellSignal),
    maxSteps: services.agent.maxSteps,
    maxWallMs: services.agent.turnTimeoutMs,
    signal: turn.signal,
    onText: (delta) => thread.progress({ type: 'answering', text: delta }),
    onCell: (code) => thread.progress({ type: 'running', code }),
    ...(resume === undefined ? {} : { resume }),
    ...agentInstaller(turn),
    vision: {
      mode: services.agent.vision ?? 'off',
      attached: accepted.map((f) => f.blob),
      read: async (id) => (await services.blobs.get(id))?.content,
    },
    ...(turn.agentSteps === undefined
      ? {}
      : { onProgress: (progress) => turn.agentSteps?.record(progress) ?? Promise.resolve() }),
  });
  turn.meter.model(result.usage);
  const notices = [...turn.refusals, ...(result.notice === undefined ? [] : [result.notice])];
  const reply = await replyForCells(result.text, result.cells, notices, services.blobs);
  await turn.save({
    transcript: [...session.transcript, ...result.messages] as ChatCompletionMessageParam[],
    cells: [...session.cells, ...result.cells],
    files: [...turn.files, ...producedFiles(result.cells)],
  });
  return reply;
}
