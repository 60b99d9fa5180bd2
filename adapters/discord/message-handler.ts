import { isFirstDelivery } from '../../src/core/delivery-guard.ts';
import type { Client, Message } from 'discord.js';
import type { AdapterContext } from '../../src/core/chat-adapter.ts';
import type { InboundMessage } from '../../src/core/inbound-message.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { withEarlierFiles, withThreadContext } from '../../src/conversation/thread-context.ts';
import { answerInPlace } from './answer-in-place.ts';
import { errorFields } from './discord-errors.ts';
import { inboundMessage, threadName } from './inbound-message.ts';
import { discordContext } from './thread-context.ts';
import { sessionKeyOf } from './session-keys.ts';
import { openThread, type OpenedPlace } from './thread-opener.ts';

/** What to do with a message: nothing, open a thread for it, or answer where it is. */
type Route = 'ignore' | 'open-thread' | 'answer-here';

/**
 * Messages the bot answers: a mention in a channel (a thread opens from it), anything in a
 * thread the bot opened or has a session in, and DMs. Its own messages never, other bots'
 * only with ALLOW_BOT_MESSAGES. A message replayed after a gateway resume is handled once.
 */
export function createMessageHandler(
  client: Client<true>,
  context: AdapterContext,
): (message: Message) => Promise<void> {
  return async (message) => {
    const botId = client.user.id;
    const route = await routeOf(message, botId, context);
    if (route === 'ignore') return;
    const id = `discord:message:${message.id}`;
    if (!(await isFirstDelivery(context.deliveries, id, context.logger))) return;
    const logger = context.logger.child({ message: message.id });
    const own = inboundMessage(message, botId, context.config.agent.maxAttachmentBytes);
    const inbound = await withContext(message, own, botId, context, logger);

    let place: OpenedPlace;
    if (route === 'open-thread' && message.inGuild()) {
      // Refuse before opening a thread: no thread per refused mention.
      const decision = context.conversation.admits(
        'discord',
        { channel: message.channelId, workspace: message.guildId },
        message.author.id,
        own.author.groups,
      );
      if (!decision.allowed) {
        await message.reply(decision.reply).catch((error: unknown) => {
          logger.warn(errorFields(error), 'could not send the refusal');
        });
        return;
      }
      place = await openThread(message, threadName(own), logger);
    } else if (message.channel.isSendable()) {
      place = { channel: message.channel };
    } else {
      return;
    }
    await answerInPlace(place, inbound, { messageId: message.id }, context, logger);
  };
}

async function routeOf(message: Message, botId: string, context: AdapterContext): Promise<Route> {
  if (message.author.id === botId || message.system) return 'ignore';
  if (message.author.bot && !context.config.allowBotMessages) return 'ignore';
  const channel = message.channel;
  const mentioned = message.mentions.users.has(botId);
  if (channel.isDMBased()) return 'answer-here';
  if (channel.isThread()) {
    if (mentioned || channel.ownerId === botId) return 'answer-here';
    // A thread someone else opened, where the bot was mentioned before.
    return (await context.conversation.hasSession(sessionKeyOf(channel)))
      ? 'answer-here'
      : 'ignore';
  }
  return mentioned ? 'open-thread' : 'ignore';
}

/** The message with what it needs to be understood: the thread before it, the message replied to. */
async function withContext(
  message: Message,
  own: Omit<InboundMessage, 'sessionKey'>,
  botId: string,
  context: AdapterContext,
  logger: Logger,
): Promise<Omit<InboundMessage, 'sessionKey'>> {
  const joiningLate = await joinsThreadLate(message, botId, context);
  const { earlier, heading } = await discordContext(
    message,
    botId,
    context.config.agent.maxAttachmentBytes,
    joiningLate,
    logger,
  );
  return {
    ...own,
    text: withThreadContext(earlier, own.text, heading),
    attachments: withEarlierFiles(earlier, own.attachments),
  };
}

/**
 * A mention in a thread someone else opened where the bot has no session yet: what was said
 * there before becomes the first turn's context.
 */
async function joinsThreadLate(
  message: Message,
  botId: string,
  context: AdapterContext,
): Promise<boolean> {
  const channel = message.channel;
  if (!channel.isThread() || channel.ownerId === botId) return false;
  return !(await context.conversation.hasSession(sessionKeyOf(channel)));
}
