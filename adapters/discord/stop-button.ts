import { ActionRowBuilder, ButtonBuilder, ButtonStyle } from 'discord.js';

/** The custom id of the Stop button on a running turn's progress message. */
export const STOP_BUTTON_ID = 'sandbot:stop';

export function stopButtonRow(): ActionRowBuilder<ButtonBuilder> {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder().setCustomId(STOP_BUTTON_ID).setLabel('Stop').setStyle(ButtonStyle.Danger),
  );
}
