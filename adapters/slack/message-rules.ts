import { mentionsUser } from './inbound-text.ts';
import type { SlackMessage } from './slack-message.ts';

/** Who the bot is in this workspace (from auth.test, via Bolt's context). */
export interface BotIdentity {
  readonly userId: string | undefined;
  readonly botId: string | undefined;
}

/** Where a message arrived from: an `app_mention` event or a `message` event. */
export type MessageSource = 'mention' | 'message';

export type MessageRoute =
  | { readonly answer: false; readonly reason: string }
  | {
      readonly answer: true;
      /** The thread the session lives in: the message's thread, or the message itself. */
      readonly threadTs: string;
      /** Answer only when the bot already has a session in that thread. */
      readonly onlyIfSession: boolean;
    };

/** Message subtypes that are a person (or, if allowed, a bot) saying something new. */
const SPOKEN_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast', 'bot_message']);

/**
 * Which messages the bot answers (issue 6): a mention anywhere starts or continues the
 * session of that message's thread; in a thread with a session, any message continues it;
 * a DM is always answered. Never its own messages; other bots only when allowed.
 */
export function routeMessage(
  message: SlackMessage,
  source: MessageSource,
  bot: BotIdentity,
  allowBotMessages: boolean,
): MessageRoute {
  const fromBot = message.botId !== undefined || message.subtype === 'bot_message';
  if (
    (bot.userId !== undefined && message.user === bot.userId) ||
    (bot.botId !== undefined && message.botId === bot.botId)
  ) {
    return { answer: false, reason: 'own message' };
  }
  if (fromBot && !allowBotMessages) return { answer: false, reason: 'another bot' };
  if (!SPOKEN_SUBTYPES.has(message.subtype)) return { answer: false, reason: 'not a new message' };
  const threadTs = message.threadTs ?? message.ts;
  if (source === 'mention') return { answer: true, threadTs, onlyIfSession: false };
  if (message.channelType === 'im') return { answer: true, threadTs, onlyIfSession: false };
  // The app_mention event for the same message answers it.
  if (mentionsUser(message.text, bot.userId)) return { answer: false, reason: 'a mention' };
  if (message.threadTs === undefined) return { answer: false, reason: 'not addressed to me' };
  return { answer: true, threadTs, onlyIfSession: true };
}
