import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  type InteractionUpdateOptions,
} from 'discord.js';

/** Custom ids of the two buttons, followed by the id of the person who asked. */
const CONFIRM_PREFIX = 'sandbot:reset:confirm:';
const CANCEL_PREFIX = 'sandbot:reset:cancel:';

export const RESET_CANCELLED_TEXT = 'Reset cancelled: the notebook is as it was.';
export const RESETTING_TEXT = 'Resetting: a fresh kernel and an empty /mnt/data…';

/**
 * `/sandbot reset` asks first: the notebook belongs to everyone in the thread, and a reset
 * loses every variable and file. The buttons carry the asker's id, so only they can answer.
 */
export function resetConfirmation(userId: string): {
  content: string;
  components: ActionRowBuilder<ButtonBuilder>[];
} {
  return {
    content: `<@${userId}> asked to reset this thread's notebook: every variable and every file in /mnt/data will be gone, for everyone here. Reset?`,
    components: [
      new ActionRowBuilder<ButtonBuilder>().addComponents(
        new ButtonBuilder()
          .setCustomId(`${CONFIRM_PREFIX}${userId}`)
          .setLabel('Confirm')
          .setStyle(ButtonStyle.Danger),
        new ButtonBuilder()
          .setCustomId(`${CANCEL_PREFIX}${userId}`)
          .setLabel('Cancel')
          .setStyle(ButtonStyle.Secondary),
      ),
    ],
  };
}

/** A press on one of the buttons: which, and whose question it answers; else undefined. */
export function resetButton(
  customId: string,
): { readonly confirmed: boolean; readonly askedBy: string } | undefined {
  if (customId.startsWith(CONFIRM_PREFIX)) {
    return { confirmed: true, askedBy: customId.slice(CONFIRM_PREFIX.length) };
  }
  if (customId.startsWith(CANCEL_PREFIX)) {
    return { confirmed: false, askedBy: customId.slice(CANCEL_PREFIX.length) };
  }
  return undefined;
}

/** The confirmation once answered: its text says what happened, its buttons are gone. */
export function answeredConfirmation(confirmed: boolean): InteractionUpdateOptions {
  return { content: confirmed ? RESETTING_TEXT : RESET_CANCELLED_TEXT, components: [] };
}

export function notYoursText(askedBy: string): string {
  return `Only <@${askedBy}>, who asked for this reset, can confirm or cancel it.`;
}
