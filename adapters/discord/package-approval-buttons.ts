import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  MessageFlags,
  Routes,
  type APIMessage,
  type ButtonInteraction,
  type Client,
} from 'discord.js';
import type { ConversationPort } from '../../src/core/chat-adapter.ts';
import type { ApprovalPrompts } from '../../src/core/package-approval.ts';
import { interactionAuthor } from './interaction-origin.ts';
import { MAX_MESSAGE_CHARS } from './limits.ts';
import { parseDiscordAddress } from './reply-address.ts';

/** Custom ids of a package question's buttons, followed by the approval's id. */
const APPROVE_PREFIX = 'sandbot:packages:approve:';
const DENY_PREFIX = 'sandbot:packages:deny:';

function buttons(approvalId: string): ActionRowBuilder<ButtonBuilder> {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder()
      .setCustomId(`${APPROVE_PREFIX}${approvalId}`)
      .setLabel('Approve')
      .setStyle(ButtonStyle.Success),
    new ButtonBuilder()
      .setCustomId(`${DENY_PREFIX}${approvalId}`)
      .setLabel('Deny')
      .setStyle(ButtonStyle.Danger),
  );
}

function fitted(text: string): string {
  return text.length <= MAX_MESSAGE_CHARS ? text : `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…`;
}

/**
 * Package questions in a Discord thread, posted and settled over REST from any bot process
 * (`client` is the gateway client's, or a REST-only one): settling keeps the question and
 * replaces the buttons with the outcome. Mentions in it do not ping anyone.
 */
export function discordApprovalPrompts(client: () => Client): ApprovalPrompts {
  const noPings = { parse: [] };
  return {
    async ask(address, question) {
      const discord = parseDiscordAddress(address);
      if (discord === undefined) throw new Error('not a Discord reply address');
      const posted = (await client().rest.post(Routes.channelMessages(discord.channelId), {
        body: {
          content: fitted(question.text),
          components: [buttons(question.id).toJSON()],
          allowed_mentions: noPings,
        },
      })) as APIMessage;
      return posted.id;
    },
    async settle(address, messageId, text) {
      const discord = parseDiscordAddress(address);
      if (discord === undefined) return;
      await client().rest.patch(Routes.channelMessage(discord.channelId, messageId), {
        body: {
          content: fitted(`${text.question}\n${text.outcome}`),
          components: [],
          allowed_mentions: noPings,
        },
      });
    },
  };
}

/** A press on one of the buttons: which, and the approval's id; else undefined. */
export function packageApprovalButton(
  customId: string,
): { readonly approve: boolean; readonly approvalId: string } | undefined {
  if (customId.startsWith(APPROVE_PREFIX)) {
    return { approve: true, approvalId: customId.slice(APPROVE_PREFIX.length) };
  }
  if (customId.startsWith(DENY_PREFIX)) {
    return { approve: false, approvalId: customId.slice(DENY_PREFIX.length) };
  }
  return undefined;
}

/**
 * Approve or Deny pressed: acknowledged at once (the core edits the message with the outcome),
 * decided by the core with the member's roles; someone who may not decide is told privately.
 */
export async function answerApprovalPress(
  interaction: ButtonInteraction,
  pressed: { readonly approve: boolean; readonly approvalId: string },
  conversation: ConversationPort,
): Promise<void> {
  await interaction.deferUpdate();
  if (conversation.pressApproval === undefined) return;
  const answer = await conversation.pressApproval({
    ...pressed,
    platform: 'discord',
    user: interactionAuthor(interaction),
  });
  if (answer.reply === undefined) return;
  await interaction.followUp({ content: answer.reply, flags: MessageFlags.Ephemeral });
}
