import { isFirstDelivery } from '../../src/core/delivery-guard.ts';
import {
  MessageFlags,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
} from 'discord.js';
import type { AdapterContext } from '../../src/core/chat-adapter.ts';
import { parseSessionKey } from '../../src/core/session-key.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { answerAnalyze } from './analyze-command.ts';
import { answerAsk } from './ask-command.ts';
import { ANALYZE_COMMAND } from './command-definitions.ts';
import { interactionAuthor, interactionSession } from './interaction-origin.ts';
import { InteractionReply, type AnsweredInteraction } from './interaction-reply.ts';
import {
  answeredConfirmation,
  notYoursText,
  resetButton,
  resetConfirmation,
} from './reset-confirmation.ts';
import { answerApprovalPress, packageApprovalButton } from './package-approval-buttons.ts';
import { codeFromRunModal, runModal, RUN_MODAL_ID } from './run-modal.ts';
import { slashRequest } from './slash-commands.ts';
import { STOP_BUTTON_ID } from './stop-button.ts';

/**
 * `/sandbot` and its subcommands, "Analyze with sandbot", the /run modal, the Stop button
 * and the reset confirmation's buttons. Each is acknowledged first (Discord allows 3
 * seconds): commands and modals with a deferred reply that the answer then fills, Stop with
 * a deferred update, the confirmation's buttons by rewriting the message they sit on.
 */
export function createInteractionHandler(
  context: AdapterContext,
): (interaction: Interaction) => Promise<void> {
  return async (interaction) => {
    const id = `discord:interaction:${interaction.id}`;
    if (!(await isFirstDelivery(context.deliveries, id, context.logger))) return;
    const logger = context.logger.child({ interaction: interaction.id });
    if (interaction.isChatInputCommand()) {
      await onSlashCommand(interaction, context, logger);
    } else if (interaction.isMessageContextMenuCommand()) {
      if (interaction.commandName === ANALYZE_COMMAND) {
        await answerAnalyze(interaction, context, logger);
      }
    } else if (interaction.isModalSubmit() && interaction.customId === RUN_MODAL_ID) {
      await interaction.deferReply();
      await handOver(interaction, `run\n${codeFromRunModal(interaction)}`, context, logger);
    } else if (interaction.isButton()) {
      await onButton(interaction, context, logger);
    }
  };
}

async function onSlashCommand(
  interaction: ChatInputCommandInteraction,
  context: AdapterContext,
  logger: Logger,
): Promise<void> {
  const request = slashRequest(interaction);
  switch (request.kind) {
    case 'unknown':
      await interaction.reply({ content: request.reply, flags: MessageFlags.Ephemeral });
      return;
    case 'modal':
      await interaction.showModal(runModal());
      return;
    case 'ask':
      await answerAsk(interaction, request, context, logger);
      return;
    case 'confirm-reset': {
      // Nothing is reset until the person who asked confirms; a refused person hears why now.
      const decision = admits(interaction, context);
      if (!decision.allowed) {
        await interaction.reply({ content: decision.reply, flags: MessageFlags.Ephemeral });
        return;
      }
      await interaction.reply(resetConfirmation(interaction.user.id));
      return;
    }
    case 'text':
      await interaction.deferReply();
      await handOver(interaction, request.text, context, logger);
      return;
  }
}

async function onButton(
  interaction: ButtonInteraction,
  context: AdapterContext,
  logger: Logger,
): Promise<void> {
  if (interaction.customId === STOP_BUTTON_ID) {
    await interaction.deferUpdate();
    // A button press must not overwrite the progress message its button sits on.
    await handOver(interaction, 'stop', context, logger, 'follow-up');
    return;
  }
  const approval = packageApprovalButton(interaction.customId);
  if (approval !== undefined) {
    await answerApprovalPress(interaction, approval, context.conversation);
    return;
  }
  const reset = resetButton(interaction.customId);
  if (reset === undefined) return;
  if (interaction.user.id !== reset.askedBy) {
    await interaction.reply({
      content: notYoursText(reset.askedBy),
      flags: MessageFlags.Ephemeral,
    });
    return;
  }
  // The buttons go at once, so the reset cannot be confirmed twice nor cancelled afterwards.
  await interaction.update(answeredConfirmation(reset.confirmed));
  // The answer replaces the confirmation, which now says "Resetting…".
  if (reset.confirmed) await handOver(interaction, 'reset', context, logger);
}

/** The interaction as a message for the core, answered through the interaction. */
async function handOver(
  interaction: AnsweredInteraction,
  text: string,
  context: AdapterContext,
  logger: Logger,
  mode: 'deferred-reply' | 'follow-up' = 'deferred-reply',
): Promise<void> {
  await context.conversation.handle(
    {
      sessionKey: interactionSession(interaction),
      author: interactionAuthor(interaction),
      text,
      attachments: [],
      // An interaction's id is a snowflake too: it names the turn and orders it.
      messageId: interaction.id,
      order: interaction.id,
    },
    new InteractionReply({ interaction, mode, logger }),
  );
}

/** The allowlists' answer for this person where the command was used (the rate is not
 *  counted: the confirmed reset is checked again, as every message is). */
function admits(interaction: ChatInputCommandInteraction, context: AdapterContext) {
  const author = interactionAuthor(interaction);
  const key = parseSessionKey(interactionSession(interaction));
  if (key === undefined) throw new Error('an interaction without a valid session');
  return context.conversation.admits('discord', key, author.id, author.groups);
}
