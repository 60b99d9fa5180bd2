import type { Message } from 'discord.js';
import {
  boundEarlierMessages,
  EARLIER_HEADING,
  REPLIED_TO_HEADING,
  type EarlierMessage,
} from '../../src/conversation/thread-context.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { errorFields } from './discord-errors.ts';
import { authorName, inboundAttachments, readableText } from './inbound-message.ts';

/** Messages asked for: Discord's page limit, more than the context keeps. */
const FETCH_LIMIT = 50;

export interface DiscordContext {
  /** Bounded, oldest first. */
  readonly earlier: EarlierMessage[];
  readonly heading: string;
}

/**
 * What a message needs to be understood: when the bot joins a thread late (`joiningLate`),
 * the thread's messages before it (but the bot's own); and when it replies to a message, that
 * message, last. A fetch Discord refuses (no Read Message History) leaves that part out.
 */
export async function discordContext(
  message: Message,
  botId: string,
  maxAttachmentBytes: number,
  joiningLate: boolean,
  logger: Logger,
): Promise<DiscordContext> {
  const found: Message[] = [];
  if (joiningLate) {
    try {
      const page = await message.channel.messages.fetch({ before: message.id, limit: FETCH_LIMIT });
      // Newest first from Discord; the context reads oldest first.
      found.push(...[...page.values()].reverse().filter((m) => m.author.id !== botId && !m.system));
    } catch (error) {
      logger.warn(errorFields(error), 'could not read the thread before the mention');
    }
  }
  if (message.reference?.messageId !== undefined) {
    try {
      const replied = await message.fetchReference();
      // Already in the thread's messages: moved last, where the reply points.
      const at = found.findIndex((m) => m.id === replied.id);
      if (at >= 0) found.splice(at, 1);
      found.push(replied);
    } catch (error) {
      logger.warn(errorFields(error), 'could not read the message replied to');
    }
  }
  const earlier = boundEarlierMessages(
    found.map((m) => ({
      author: authorName(m),
      text: readableText(m, botId),
      attachments: inboundAttachments(m, maxAttachmentBytes),
    })),
  );
  return { earlier, heading: joiningLate ? EARLIER_HEADING : REPLIED_TO_HEADING };
}
