import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionMessageParam,
  ChatCompletionMessageFunctionToolCall,
} from 'openai/resources/chat/completions';
import { cellImages, type CellResult } from '../core/cell-result.ts';
import {
  describeModelError,
  requestParameters,
  type ModelRequestSettings,
  type OpenAI,
} from './model-client.ts';
import { PYTHON_TOOL, parsePythonArguments } from './python-tool.ts';
import {
  installPackagesTool,
  runInstallTool,
  type PackageInstaller,
} from './install-packages-tool.ts';
import { HeldRecord } from './held-record.ts';
import { summarizeCell } from './tool-result.ts';
import { VisionTurn, type VisionOptions } from './vision-turn.ts';

export interface CellRun {
  readonly code: string;
  readonly result: CellResult;
}

export interface AgentTurnOptions {
  readonly client: OpenAI;
  readonly model: string;
  /** The thread so far (user, assistant and tool messages; no system message). */
  readonly history: readonly ChatCompletionMessageParam[];
  /** This turn's user message, already labelled with its author and attachments. */
  readonly userMessage: string;
  /** Runs one cell in the thread's kernel and gives back its result. */
  readonly runCell: (code: string, signal: AbortSignal) => Promise<CellResult>;
  /** Model calls per turn (each may run one or more cells). Default 10. */
  readonly maxSteps?: number;
  /** Wall time for the whole turn. Default 10 minutes. */
  readonly maxWallMs?: number;
  /** Stop: aborts the model call or interrupts the running cell, and ends the turn. */
  readonly signal?: AbortSignal;
  /** Answer text as the model streams it. */
  readonly onText?: (delta: string) => void;
  /** Called before each cell runs, with its code. */
  readonly onCell?: (code: string) => void;
  /** What an earlier run of this turn did before its process died: the turn goes on from
   *  there (tool calls it had begun are run again under the same job ids, so they follow
   *  the jobs already running instead of running twice; finished steps are not redone). */
  readonly resume?: AgentProgress;
  /** Called after each model reply and each tool result, to be recorded for a resume. */
  readonly onProgress?: (progress: AgentProgress) => Promise<void>;
  /** Images for a model that sees them (MODEL_VISION). Absent: text only, as for `off`. */
  readonly vision?: VisionOptions;
  /** The standing instructions (src/agent/system-prompt.ts). Default: the built-in prompt. */
  readonly systemPrompt?: string;
  /** MODEL_TEMPERATURE and MODEL_MAX_TOKENS; what is unset is not sent. */
  readonly request?: ModelRequestSettings;
  /** Offers install_packages (issue 18); absent when the bot has no package index. */
  readonly installPackages?: PackageInstaller;
}

/** A turn's steps so far: its messages (from its user message on) and the cells they ran. */
export interface AgentProgress {
  readonly messages: readonly ChatCompletionMessageParam[];
  readonly cells: readonly CellRun[];
}

export type TurnStop = 'answered' | 'step_limit' | 'time_limit' | 'cancelled' | 'model_error';

export interface AgentTurnResult {
  readonly text: string;
  /** The messages this turn adds to the thread's transcript, in order. */
  readonly messages: readonly ChatCompletionMessageParam[];
  readonly cells: readonly CellRun[];
  readonly stop: TurnStop;
  /** For every stop but `answered`: what to tell the user. */
  readonly notice?: string;
  /** What this run of the turn asked of the model (a resumed run counts its own calls). */
  readonly usage: ModelUsage;
}

/** Tokens as the API reported them in each streamed reply's final chunk, and the calls made. */
export interface ModelUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly modelCalls: number;
}

/**
 * One turn of the conversation: the model answers, or calls the python tool; each call runs
 * a cell whose compact summary goes back to the model, until it answers or a bound stops it.
 * Never throws for model or user-code trouble: the result says what happened.
 */
export async function runAgentTurn(options: AgentTurnOptions): Promise<AgentTurnResult> {
  const maxSteps = options.maxSteps ?? 10;
  const deadline = AbortSignal.timeout(options.maxWallMs ?? 10 * 60_000);
  const signal =
    options.signal === undefined ? deadline : AbortSignal.any([options.signal, deadline]);
  // Decided before the first request; a probe of an unknown model never fails the turn.
  const vision = await VisionTurn.start(options.vision, options.client, options.model, signal);
  const added: ChatCompletionMessageParam[] = options.resume
    ? [...options.resume.messages]
    : [vision.withAttachments({ role: 'user', content: options.userMessage })];
  const cells: CellRun[] = [...(options.resume?.cells ?? [])];
  const recordProgress = () => options.onProgress?.({ messages: [...added], cells: [...cells] });
  const held = new HeldRecord(recordProgress);
  let text = '';
  const usage: Usage = { promptTokens: 0, completionTokens: 0, modelCalls: 0 };

  const stopped = (stop: TurnStop, notice: string): AgentTurnResult => ({
    text,
    messages: added,
    cells,
    stop,
    notice,
    usage,
  });
  const whyAborted = async (): Promise<AgentTurnResult> => {
    await held.flush();
    return stopped(...abortReason(deadline));
  };

  // Resumed: end with the earlier run's answer, or answer the tool calls it had begun.
  const begun = lastStep(added);
  if (begun !== undefined) {
    text = begun.text;
    if (begun.calls.length === 0) return { text, messages: added, cells, stop: 'answered', usage };
    await runToolCalls(options, begun.pending, signal, { added, cells, recordProgress, vision });
    if (begun.pending.length > 0) held.hold();
  }
  const stepsTaken = added.filter((m) => m.role === 'assistant').length;
  for (let step = stepsTaken; step < maxSteps; step += 1) {
    if (signal.aborted) return whyAborted();
    let reply: StreamedReply;
    try {
      reply = await held.whileAsking(
        askModel(options, [...options.history, ...added], signal, vision, usage),
      );
    } catch (error) {
      // Read again: the await above may have seen the signal fire.
      if (isAborted(signal)) return whyAborted();
      return stopped('model_error', describeModelError(error));
    }
    text = reply.content;
    added.push(assistantMessage(reply));
    await recordProgress();
    if (reply.toolCalls.length === 0)
      return { text, messages: added, cells, stop: 'answered', usage };
    await runToolCalls(options, reply.toolCalls, signal, { added, cells, recordProgress, vision });
    held.hold();
  }
  await held.flush();
  return stopped(
    'step_limit',
    `I stopped after ${maxSteps} steps without finishing. Ask me to continue, or narrow the request.`,
  );
}

function abortReason(deadline: AbortSignal): [TurnStop, string] {
  return deadline.aborted
    ? [
        'time_limit',
        'I stopped: this request ran past its time limit. Ask me to continue if needed.',
      ]
    : ['cancelled', 'Stopped.'];
}

function assistantMessage(reply: StreamedReply): ChatCompletionAssistantMessageParam {
  return {
    role: 'assistant',
    content: reply.content === '' ? null : reply.content,
    ...(reply.toolCalls.length > 0 ? { tool_calls: reply.toolCalls } : {}),
  };
}

/**
 * Runs the calls in order, adding each one's tool message and recording the turn after each
 * but the last (the caller records that one, once its next model request is out).
 */
async function runToolCalls(
  options: AgentTurnOptions,
  calls: readonly ChatCompletionMessageFunctionToolCall[],
  signal: AbortSignal,
  turn: {
    readonly added: ChatCompletionMessageParam[];
    readonly cells: CellRun[];
    readonly recordProgress: () => Promise<void> | undefined;
    readonly vision: VisionTurn;
  },
): Promise<void> {
  for (const [index, call] of calls.entries()) {
    const { content, result } = await runToolCall(options, call, signal, turn.cells);
    turn.added.push({ role: 'tool', tool_call_id: call.id, content });
    // A tool result is text: the cell's images follow in a user message, for a model that sees.
    const shown = result === undefined ? undefined : turn.vision.cellImages(cellImages(result));
    if (shown !== undefined) turn.added.push(shown);
    if (index < calls.length - 1) await turn.recordProgress();
  }
}

/** The last model reply of a recorded turn: its text, its tool calls, those not answered. */
function lastStep(messages: readonly ChatCompletionMessageParam[]):
  | {
      readonly text: string;
      readonly calls: readonly ChatCompletionMessageFunctionToolCall[];
      readonly pending: readonly ChatCompletionMessageFunctionToolCall[];
    }
  | undefined {
  const index = messages.findLastIndex((m) => m.role === 'assistant');
  const reply = messages[index];
  if (reply?.role !== 'assistant') return undefined;
  const answered = new Set(
    messages.slice(index + 1).flatMap((m) => (m.role === 'tool' ? [m.tool_call_id] : [])),
  );
  const calls = (reply.tool_calls ?? []).filter(isFunctionCall);
  return {
    text: typeof reply.content === 'string' ? reply.content : '',
    calls,
    pending: calls.filter((call) => !answered.has(call.id)),
  };
}

function isFunctionCall(call: { type: string }): call is ChatCompletionMessageFunctionToolCall {
  return call.type === 'function';
}

function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

async function runToolCall(
  options: AgentTurnOptions,
  call: ChatCompletionMessageFunctionToolCall,
  signal: AbortSignal,
  cells: CellRun[],
): Promise<{ content: string; result?: CellResult }> {
  if (call.function.name === 'install_packages' && options.installPackages !== undefined) {
    return {
      content: await runInstallTool(options.installPackages, call.function.arguments, signal),
    };
  }
  if (call.function.name !== PYTHON_TOOL.function.name) {
    return { content: `Error: there is no tool named ${call.function.name}; use "python".` };
  }
  const parsed = parsePythonArguments(call.function.arguments);
  if ('error' in parsed) return { content: `Error: ${parsed.error}` };
  if (signal.aborted) return { content: '[not run: the turn was stopped]' };
  options.onCell?.(parsed.code);
  const result = await options.runCell(parsed.code, signal);
  cells.push({ code: parsed.code, result });
  return { content: summarizeCell(result), result };
}

/**
 * One model call with this turn's images. A model that refuses image inputs (400) is asked
 * once more without them, and the turn (and process) goes on text-only.
 */
async function askModel(
  options: AgentTurnOptions,
  messages: readonly ChatCompletionMessageParam[],
  signal: AbortSignal,
  vision: VisionTurn,
  usage: Usage,
): Promise<StreamedReply> {
  try {
    const request = await vision.request(messages);
    return await countUsage(
      usage,
      streamReply(options, request, vision.systemPrompt(options.systemPrompt), signal),
    );
  } catch (error) {
    if (isAborted(signal) || !vision.refusedImages(error)) throw error;
    return countUsage(
      usage,
      streamReply(options, messages, vision.systemPrompt(options.systemPrompt), signal),
    );
  }
}

interface StreamedReply {
  readonly content: string;
  readonly toolCalls: ChatCompletionMessageFunctionToolCall[];
  /** Absent when the endpoint sent no usage (some local servers ignore `stream_options`). */
  readonly usage?: { readonly promptTokens: number; readonly completionTokens: number };
}

type Usage = { -readonly [K in keyof ModelUsage]: ModelUsage[K] };

/** Adds a reply's tokens to the turn's; a call that failed counts as a call only. */
async function countUsage(usage: Usage, call: Promise<StreamedReply>): Promise<StreamedReply> {
  usage.modelCalls += 1;
  const reply = await call;
  usage.promptTokens += reply.usage?.promptTokens ?? 0;
  usage.completionTokens += reply.usage?.completionTokens ?? 0;
  return reply;
}

/** One streamed model call, reassembled into text and complete tool calls. */
async function streamReply(
  options: AgentTurnOptions,
  messages: readonly ChatCompletionMessageParam[],
  systemPrompt: string,
  signal: AbortSignal,
): Promise<StreamedReply> {
  const stream = await options.client.chat.completions.create(
    {
      model: options.model,
      messages: [{ role: 'system', content: systemPrompt }, ...messages],
      tools: [
        PYTHON_TOOL,
        ...(options.installPackages === undefined
          ? []
          : [installPackagesTool(options.installPackages.allowlist)]),
      ],
      stream: true,
      // The last chunk then carries the call's token counts (src/metering/).
      stream_options: { include_usage: true },
      ...requestParameters(options.request),
    },
    { signal },
  );
  let content = '';
  const calls: { id: string; name: string; arguments: string }[] = [];
  let usage: StreamedReply['usage'];
  for await (const chunk of stream) {
    if (chunk.usage != null) {
      usage = {
        promptTokens: chunk.usage.prompt_tokens,
        completionTokens: chunk.usage.completion_tokens,
      };
    }
    const delta = chunk.choices[0]?.delta;
    if (delta === undefined) continue;
    if (typeof delta.content === 'string' && delta.content !== '') {
      content += delta.content;
      options.onText?.(delta.content);
    }
    for (const part of delta.tool_calls ?? []) {
      const call = (calls[part.index] ??= { id: '', name: '', arguments: '' });
      if (part.id !== undefined) call.id = part.id;
      if (part.function?.name !== undefined) call.name += part.function.name;
      if (part.function?.arguments !== undefined) call.arguments += part.function.arguments;
    }
  }
  const toolCalls = calls
    .filter((c) => c.name !== '')
    .map((c, i) => ({
      id: c.id === '' ? `call_${i}` : c.id,
      type: 'function' as const,
      function: { name: c.name, arguments: c.arguments },
    }));
  return { content, toolCalls, ...(usage === undefined ? {} : { usage }) };
}
