import {
  LabelBuilder,
  ModalBuilder,
  TextInputBuilder,
  TextInputStyle,
  type ModalSubmitInteraction,
} from 'discord.js';

/** The custom id of the /run modal, and of its code field. */
export const RUN_MODAL_ID = 'sandbot:run';
const CODE_FIELD_ID = 'code';

/** Discord's longest text input. */
const MAX_CODE_CHARS = 4000;

/** /run without code opens this: a paragraph field, since a chat box is no place for code. */
export function runModal(): ModalBuilder {
  return new ModalBuilder()
    .setCustomId(RUN_MODAL_ID)
    .setTitle('Run Python in this thread')
    .addLabelComponents(
      new LabelBuilder()
        .setLabel('Code')
        .setDescription('Runs in the sandbox of this thread; variables and files persist.')
        .setTextInputComponent(
          new TextInputBuilder()
            .setCustomId(CODE_FIELD_ID)
            .setStyle(TextInputStyle.Paragraph)
            .setPlaceholder('import pandas as pd\nprint(pd.__version__)')
            .setMaxLength(MAX_CODE_CHARS)
            .setRequired(true),
        ),
    );
}

export function codeFromRunModal(interaction: ModalSubmitInteraction): string {
  return interaction.fields.getTextInputValue(CODE_FIELD_ID);
}
