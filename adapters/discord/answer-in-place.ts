import type { AdapterContext } from '../../src/core/chat-adapter.ts';
import type { InboundMessage } from '../../src/core/inbound-message.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { ChannelReply } from './channel-reply.ts';
import type { DiscordReplyAddress } from './reply-address.ts';
import { sessionKeyOf } from './session-keys.ts';
import type { OpenedPlace } from './thread-opener.ts';
import { channelUploadLimitBytes } from './upload-limit.ts';

/** What asked: a person's message, or an interaction (slash command, modal, button). */
export type TurnOrigin = Pick<DiscordReplyAddress, 'messageId' | 'interactionId' | 'applicationId'>;

/**
 * Answers a turn in the thread, DM or channel it was given, the same for a mention and for an
 * interaction: typing at once, the opener's notice if the thread could not be opened, then
 * the conversation's progress (with Stop) and answer as new messages there. The reply's
 * address names the origin, so another bot process can rebuild it after a crash.
 */
export async function answerInPlace(
  place: OpenedPlace,
  inbound: Omit<InboundMessage, 'sessionKey'>,
  origin: TurnOrigin,
  context: AdapterContext,
  logger: Logger,
): Promise<void> {
  const maxFileBytes = channelUploadLimitBytes(place.channel);
  const reply = new ChannelReply({
    channel: place.channel,
    maxFileBytes,
    logger,
    address: { surface: 'discord', channelId: place.channel.id, ...origin, maxFileBytes },
  });
  reply.startTyping();
  if (place.notice !== undefined) await place.channel.send(place.notice);
  await context.conversation.handle({ ...inbound, sessionKey: sessionKeyOf(place.channel) }, reply);
}
