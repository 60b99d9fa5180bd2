import { isFirstDelivery } from '../../src/core/delivery-guard.ts';
import { MessageFlags, type Interaction } from 'discord.js';
import type { AdapterContext } from '../../src/core/chat-adapter.ts';
import { InteractionReply, type AnsweredInteraction } from './interaction-reply.ts';
import { codeFromRunModal, runModal, RUN_MODAL_ID } from './run-modal.ts';
import { channelKey, sessionKeyOf } from './session-keys.ts';
import { slashRequest } from './slash-commands.ts';
import { STOP_BUTTON_ID } from './stop-button.ts';

/**
 * Slash commands, the /run modal and the Stop button. Each is acknowledged first (Discord
 * allows 3 seconds): commands and modals with a deferred reply that the answer then fills,
 * the button with a deferred update. In a bot thread the session is the thread; elsewhere
 * it is the channel (or the DM).
 */
export function createInteractionHandler(
  context: AdapterContext,
): (interaction: Interaction) => Promise<void> {
  return async (interaction) => {
    const id = `discord:interaction:${interaction.id}`;
    if (!(await isFirstDelivery(context.deliveries, id, context.logger))) return;
    const logger = context.logger.child({ interaction: interaction.id });
    let text: string;
    let mode: 'deferred-reply' | 'follow-up' = 'deferred-reply';
    if (interaction.isChatInputCommand()) {
      const request = slashRequest(interaction);
      if (request === undefined) {
        await interaction.reply({
          content: `I do not know /${interaction.commandName}; try /help.`,
          flags: MessageFlags.Ephemeral,
        });
        return;
      }
      if (request.kind === 'modal') {
        await interaction.showModal(runModal());
        return;
      }
      await interaction.deferReply();
      text = request.text;
    } else if (interaction.isModalSubmit() && interaction.customId === RUN_MODAL_ID) {
      await interaction.deferReply();
      text = `run\n${codeFromRunModal(interaction)}`;
    } else if (interaction.isButton() && interaction.customId === STOP_BUTTON_ID) {
      await interaction.deferUpdate();
      text = 'stop';
      mode = 'follow-up';
    } else {
      return;
    }
    await context.conversation.handle(
      {
        sessionKey: sessionOf(interaction),
        author: {
          id: interaction.user.id,
          name: interaction.inCachedGuild()
            ? interaction.member.displayName
            : interaction.user.displayName,
        },
        text,
        attachments: [],
        // An interaction's id is a snowflake too: it names the turn and orders it.
        messageId: interaction.id,
        order: interaction.id,
      },
      new InteractionReply({ interaction, mode, logger }),
    );
  };
}

function sessionOf(interaction: AnsweredInteraction): string {
  if (interaction.channel !== null) return sessionKeyOf(interaction.channel);
  // Discord always names the channel of these interactions; discord.js may not have it cached.
  if (interaction.channelId === null) throw new Error('an interaction without a channel');
  return channelKey(interaction.guildId, interaction.channelId);
}
