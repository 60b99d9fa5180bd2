import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';

/**
 * A rough token count: 4 characters a token (OpenAI's rule of thumb for English; code and
 * other languages run denser, so MODEL_CONTEXT_TOKENS leaves a reply reserve on top), plus a
 * few tokens of framing per message, and a fixed amount per image. No tokenizer: models and
 * servers differ, and the estimate only decides how much old history to leave out.
 */
export const CHARS_PER_TOKEN = 4;
export const TOKENS_PER_MESSAGE = 4;
/** About what a detailed 1024×1024 image costs on OpenAI's vision models. */
export const TOKENS_PER_IMAGE = 1000;

export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

export function estimateTokens(messages: readonly ChatCompletionMessageParam[]): number {
  let tokens = 0;
  for (const message of messages) {
    tokens += TOKENS_PER_MESSAGE;
    const { content } = message;
    if (typeof content === 'string') tokens += estimateTextTokens(content);
    else if (Array.isArray(content)) {
      for (const part of content as readonly { type: string; text?: string }[]) {
        tokens += part.type === 'text' ? estimateTextTokens(part.text ?? '') : TOKENS_PER_IMAGE;
      }
    }
    if (message.role === 'assistant') {
      for (const call of message.tool_calls ?? []) {
        if (call.type === 'function') {
          tokens += estimateTextTokens(call.function.name + call.function.arguments);
        }
      }
    }
  }
  return tokens;
}

/** Kept free for the model's reply when MODEL_MAX_TOKENS is unset. */
export const DEFAULT_REPLY_RESERVE_TOKENS = 4096;
/** The python tool's schema and the request's framing. */
const TOOL_SCHEMA_TOKENS = 300;

/** What the thread's history may take of the context window in one turn's first request. */
export function historyBudgetTokens(parts: {
  readonly contextTokens: number;
  readonly systemPrompt: string;
  readonly userMessage: string;
  readonly replyTokens?: number | undefined;
}): number {
  const fixed =
    estimateTextTokens(parts.systemPrompt) +
    estimateTextTokens(parts.userMessage) +
    2 * TOKENS_PER_MESSAGE +
    TOOL_SCHEMA_TOKENS +
    (parts.replyTokens ?? DEFAULT_REPLY_RESERVE_TOKENS);
  return Math.max(0, parts.contextTokens - fixed);
}
