import { MessageFlags, type MessageContextMenuCommandInteraction } from 'discord.js';
import type { AdapterContext } from '../../src/core/chat-adapter.ts';
import type { InboundMessage } from '../../src/core/inbound-message.ts';
import type { Logger } from '../../src/logging/logger.ts';
import {
  boundEarlierMessages,
  REPLIED_TO_HEADING,
  withEarlierFiles,
  withThreadContext,
} from '../../src/conversation/thread-context.ts';
import { authorName, inboundAttachments, readableText, threadName } from './inbound-message.ts';
import { interactionAuthor } from './interaction-origin.ts';
import { opensThread } from './interaction-place.ts';
import { openThreadTurn } from './thread-turn.ts';

/** What the person asks by choosing "Analyze with sandbot": the message is the material. */
export const ANALYZE_REQUEST = 'Analyze this message and its files.';

/**
 * "Analyze with sandbot" on a message: a turn whose request is the message, quoted as the
 * message replied to is when the bot is mentioned in a reply, with its files in /mnt/data.
 * In a server channel a thread opens on the message (or its thread is used) and the person
 * is told where, privately; in a thread or a DM the answer fills the command's reply there.
 */
export async function answerAnalyze(
  interaction: MessageContextMenuCommandInteraction,
  context: AdapterContext,
  logger: Logger,
): Promise<void> {
  const target = interaction.targetMessage;
  const botId = interaction.client.user.id;
  const maxBytes = context.config.agent.maxAttachmentBytes;
  const own = {
    author: authorName(target),
    // Mentions are made readable through the channel, which an uncached DM lacks.
    text: interaction.channel === null ? target.content.trim() : readableText(target, botId),
    attachments: inboundAttachments(target, maxBytes),
  };
  const earlier = boundEarlierMessages([own]);
  const inbound: Omit<InboundMessage, 'sessionKey'> = {
    author: interactionAuthor(interaction),
    text: withThreadContext(earlier, ANALYZE_REQUEST, REPLIED_TO_HEADING),
    attachments: withEarlierFiles(earlier, []),
    messageId: interaction.id,
    order: interaction.id,
  };
  const inServer = await opensThread(interaction, inbound, context, logger, !target.inGuild());
  if (inServer === undefined) return;
  await inServer.deferReply({ flags: MessageFlags.Ephemeral });
  const turn = await openThreadTurn({
    starter: inServer.targetMessage,
    name: threadName({ ...inbound, text: own.text, attachments: own.attachments }),
    inbound,
    interactionId: inServer.id,
    applicationId: inServer.applicationId,
    context,
    logger,
  });
  await inServer.editReply({ content: `Analyzing it in <#${turn.place.channel.id}>.` });
  await turn.answer();
}
