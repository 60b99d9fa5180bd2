import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';

/** Tool results older than this many messages are shortened first when a thread grows. */
const KEEP_RECENT_MESSAGES = 24;
/** Beyond this many messages the oldest turns are dropped altogether. */
const MAX_MESSAGES = 200;
const TRIMMED_TOOL_RESULT_CHARS = 300;

/**
 * Keeps a long thread within the model's context: old tool outputs are cut first (the
 * model's own summaries of them stay), then the oldest messages go. A kept tool message
 * always keeps the assistant message that called it, or the API refuses the request.
 */
export function trimTranscript(
  transcript: readonly ChatCompletionMessageParam[],
): ChatCompletionMessageParam[] {
  let messages = transcript.slice(-MAX_MESSAGES);
  // Never start with tool results whose call was dropped.
  while (messages.length > 0 && messages[0]?.role !== 'user') messages = messages.slice(1);
  const recentFrom = messages.length - KEEP_RECENT_MESSAGES;
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
