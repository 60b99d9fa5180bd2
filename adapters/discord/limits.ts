import type { RenderLimits } from '../../src/render/render-reply.ts';

/** Discord's message length for bots. */
export const MAX_MESSAGE_CHARS = 2000;
/** Attachments per message. */
export const MAX_FILES_PER_MESSAGE = 10;
/** Beyond this many messages an answer goes as reply.md: a wall of messages helps nobody. */
export const MAX_MESSAGES_PER_ANSWER = 5;
/**
 * Least time between two edits of the progress message. Discord allows about five message
 * writes per five seconds per channel; 1.5 s leaves room for the answer itself.
 */
export const PROGRESS_INTERVAL_MS = 1500;

export function renderLimits(maxFileBytes: number): RenderLimits {
  return {
    maxMessageChars: MAX_MESSAGE_CHARS,
    maxMessages: MAX_MESSAGES_PER_ANSWER,
    maxFilesPerMessage: MAX_FILES_PER_MESSAGE,
    maxFileBytes,
  };
}
