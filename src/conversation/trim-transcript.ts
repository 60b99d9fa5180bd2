import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { estimateTokens } from './token-estimate.ts';

/** Tool results older than this many messages are shortened first when a thread grows. */
const KEEP_RECENT_MESSAGES = 24;
/** Beyond this many messages the oldest turns are dropped altogether. */
const MAX_MESSAGES = 200;
const TRIMMED_TOOL_RESULT_CHARS = 300;

export interface TrimOptions {
  /** Tokens the kept transcript may take (an estimate: see token-estimate.ts). Default: no
   *  bound but the message count. */
  readonly budgetTokens?: number;
}

/**
 * Keeps a long thread within the model's context: old tool outputs are cut first (the
 * model's own summaries of them stay), then the oldest turns go, by message count and then
 * until the estimate fits the budget. The newest turn is always kept (its tool outputs cut
 * if it alone is too big). A kept tool message always keeps the assistant message that
 * called it, or the API refuses the request.
 */
export function trimTranscript(
  transcript: readonly ChatCompletionMessageParam[],
  options: TrimOptions = {},
): ChatCompletionMessageParam[] {
  let messages = fromTurnStart(transcript.slice(-MAX_MESSAGES));
  messages = shortenToolResults(messages, messages.length - KEEP_RECENT_MESSAGES);
  const budget = options.budgetTokens;
  if (budget === undefined) return messages;
  const starts = turnStarts(messages);
  let used = estimateTokens(messages);
  // Drop whole turns, oldest first, while over budget; never the newest.
  let first = 0;
  while (used > budget && first < starts.length - 1) {
    const from = starts[first] ?? 0;
    const to = starts[first + 1] ?? messages.length;
    used -= estimateTokens(messages.slice(from, to));
    first += 1;
  }
  messages = messages.slice(starts[first] ?? 0);
  // The newest turn alone is too big: its tool outputs are what can give.
  return used > budget ? shortenToolResults(messages, messages.length) : messages;
}

/** Never start with tool results (or a reply) whose turn was dropped. */
function fromTurnStart(messages: readonly ChatCompletionMessageParam[]) {
  const start = messages.findIndex((m) => m.role === 'user');
  return start === -1 ? [] : messages.slice(start);
}

/**
 * Where each turn begins: a user message that does not follow a tool result (a vision
 * turn's "Images produced by the cell above" message is a user message inside a turn).
 */
function turnStarts(messages: readonly ChatCompletionMessageParam[]): number[] {
  const starts: number[] = [];
  messages.forEach((message, index) => {
    if (message.role === 'user' && messages[index - 1]?.role !== 'tool') starts.push(index);
  });
  return starts;
}

function shortenToolResults(
  messages: readonly ChatCompletionMessageParam[],
  recentFrom: number,
): ChatCompletionMessageParam[] {
  return messages.map((message, index) => {
    if (index >= recentFrom || message.role !== 'tool' || typeof message.content !== 'string')
      return message;
    if (message.content.length <= TRIMMED_TOOL_RESULT_CHARS) return message;
    return {
      ...message,
      content: `${message.content.slice(0, TRIMMED_TOOL_RESULT_CHARS)}\n... [older output trimmed]`,
    };
  });
}
