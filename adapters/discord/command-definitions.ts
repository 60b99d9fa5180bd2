import {
  ApplicationIntegrationType,
  InteractionContextType,
  SlashCommandBuilder,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';

/** Discord's longest string option. */
const MAX_OPTION_CHARS = 6000;

/**
 * The slash commands, one per core command; `npm run discord:register` sends these to
 * Discord and the adapter answers them. Usable in servers and in the bot's DMs.
 */
export function commandDefinitions(): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  const base = (name: string, description: string) =>
    new SlashCommandBuilder()
      .setName(name)
      .setDescription(description)
      .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
      .setIntegrationTypes(ApplicationIntegrationType.GuildInstall);
  return [
    base('run', 'Run Python in this thread without the model (opens a code box)')
      .addStringOption((option) =>
        option
          .setName('code')
          .setDescription('One line of code; leave empty for a multi-line code box')
          .setMaxLength(MAX_OPTION_CHARS),
      )
      .toJSON(),
    base('reset', 'Fresh kernel and empty /mnt/data for this thread').toJSON(),
    base('files', 'List the files of this thread, or send one back')
      .addStringOption((option) =>
        option.setName('name').setDescription('The file to send back').setMaxLength(255),
      )
      .toJSON(),
    base('stop', 'Interrupt the running cell and end the turn').toJSON(),
    base('export', 'This thread as a Jupyter notebook with its outputs').toJSON(),
    base('status', 'The kernel, its memory, and what has run').toJSON(),
    base('help', 'What sandbot does and how to use it').toJSON(),
  ];
}
