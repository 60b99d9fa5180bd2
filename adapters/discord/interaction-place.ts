import {
  ChannelType,
  MessageFlags,
  type ChatInputCommandInteraction,
  type MessageContextMenuCommandInteraction,
} from 'discord.js';
import type { AdapterContext } from '../../src/core/chat-adapter.ts';
import type { InboundMessage } from '../../src/core/inbound-message.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { interactionSession } from './interaction-origin.ts';
import { InteractionReply } from './interaction-reply.ts';

/**
 * Where a command that may open a thread (`/sandbot ask`, "Analyze with sandbot") answers.
 * Outside a server text channel (a thread, a DM, an uncached server, or when `inPlace`) the
 * turn runs right there, in that place's session, filling the command's deferred reply, and
 * this resolves undefined. In a server text channel the allowlists are checked first (a
 * refusal is private, before any thread opens); the interaction, known to be in a cached
 * server, says the caller should open the thread.
 */
export function opensThread(
  interaction: ChatInputCommandInteraction,
  inbound: Omit<InboundMessage, 'sessionKey'>,
  context: AdapterContext,
  logger: Logger,
  inPlace?: boolean,
): Promise<ChatInputCommandInteraction<'cached'> | undefined>;
export function opensThread(
  interaction: MessageContextMenuCommandInteraction,
  inbound: Omit<InboundMessage, 'sessionKey'>,
  context: AdapterContext,
  logger: Logger,
  inPlace?: boolean,
): Promise<MessageContextMenuCommandInteraction<'cached'> | undefined>;
export async function opensThread(
  interaction: ChatInputCommandInteraction | MessageContextMenuCommandInteraction,
  inbound: Omit<InboundMessage, 'sessionKey'>,
  context: AdapterContext,
  logger: Logger,
  inPlace = false,
): Promise<
  ChatInputCommandInteraction<'cached'> | MessageContextMenuCommandInteraction<'cached'> | undefined
> {
  const channel = interaction.channel;
  if (
    inPlace ||
    !interaction.inCachedGuild() ||
    channel === null ||
    (channel.type !== ChannelType.GuildText && channel.type !== ChannelType.GuildAnnouncement)
  ) {
    await interaction.deferReply();
    await context.conversation.handle(
      { ...inbound, sessionKey: interactionSession(interaction) },
      new InteractionReply({ interaction, mode: 'deferred-reply', logger }),
    );
    return undefined;
  }
  const decision = context.conversation.admits(
    'discord',
    { channel: channel.id, workspace: interaction.guildId },
    inbound.author.id,
    inbound.author.groups,
  );
  if (!decision.allowed) {
    await interaction.reply({ content: decision.reply, flags: MessageFlags.Ephemeral });
    return undefined;
  }
  return interaction;
}
