import {
  ApplicationCommandType,
  ApplicationIntegrationType,
  ContextMenuCommandBuilder,
  InteractionContextType,
  SlashCommandBuilder,
  type RESTPostAPIApplicationCommandsJSONBody,
  type SlashCommandSubcommandBuilder,
} from 'discord.js';
import type { CommandName } from '../../src/conversation/parse-message.ts';

/** The one slash command: everything sandbot does is a subcommand of it (`/sandbot ask`). */
export const SANDBOT_COMMAND = 'sandbot';
/** The message context-menu command (Apps → Analyze with sandbot). */
export const ANALYZE_COMMAND = 'Analyze with sandbot';
/** The subcommand that asks the model, with a prompt and an optional file. */
export const ASK_SUBCOMMAND = 'ask';

/**
 * The top-level commands earlier versions registered, one per core command: registration
 * replaces them and says so (`npm run discord:register`), and the adapter points anyone who
 * still has one in their picker to /sandbot.
 */
export const LEGACY_COMMANDS: readonly string[] = [
  'run',
  'reset',
  'files',
  'stop',
  'export',
  'status',
  'help',
];

/** Discord's longest string option. */
const MAX_OPTION_CHARS = 6000;

type Subcommand = (sub: SlashCommandSubcommandBuilder) => SlashCommandSubcommandBuilder;

/**
 * One subcommand per core command. Typed by the core's command list, so a command added to
 * the core does not compile here until it has its subcommand.
 */
const CORE_SUBCOMMANDS: Readonly<Record<CommandName, Subcommand>> = {
  run: (sub) =>
    sub
      .setDescription('Run Python in this thread without the model (opens a code box)')
      .addStringOption((option) =>
        option
          .setName('code')
          .setDescription('One line of code; leave empty for a multi-line code box')
          .setMaxLength(MAX_OPTION_CHARS),
      ),
  files: (sub) =>
    sub
      .setDescription('List the files of this thread, or send one back')
      .addStringOption((option) =>
        option.setName('name').setDescription('The file to send back').setMaxLength(255),
      ),
  export: (sub) => sub.setDescription('This thread as a Jupyter notebook with its outputs'),
  status: (sub) => sub.setDescription('The kernel, its memory, and what has run'),
  reset: (sub) =>
    sub.setDescription('Fresh kernel and empty /mnt/data for this thread (asks to confirm)'),
  forget: (sub) =>
    sub.setDescription(
      "Delete this thread's saved variables (its checkpoint); the kernel keeps them",
    ),
  install: (sub) =>
    sub
      .setDescription("Install Python packages from this bot's package index into the thread")
      .addStringOption((option) =>
        option
          .setName('names')
          .setDescription('Package names, e.g. "tabulate tinytable==1.2"')
          .setMaxLength(1000)
          .setRequired(true),
      ),
  packages: (sub) => sub.setDescription('The packages installed in this thread, with versions'),
  stop: (sub) => sub.setDescription('Interrupt the running cell and end the turn'),
  help: (sub) => sub.setDescription('What sandbot does and how to use it'),
};

const ask: Subcommand = (sub) =>
  sub
    .setDescription('Ask for an analysis; in a channel the answer opens a thread')
    .addStringOption((option) =>
      option
        .setName('prompt')
        .setDescription('What to do, e.g. "plot monthly revenue from this CSV"')
        .setMaxLength(MAX_OPTION_CHARS)
        .setRequired(true),
    )
    .addAttachmentOption((option) =>
      option.setName('file').setDescription('A file to analyze; it lands in /mnt/data'),
    );

/**
 * What `npm run discord:register` sends: `/sandbot` with its subcommands (one name in the
 * picker, where generic names like /run collide with every other bot's) and the message
 * command. Usable in servers and in the bot's DMs.
 */
export function commandDefinitions(): RESTPostAPIApplicationCommandsJSONBody[] {
  const sandbot = new SlashCommandBuilder()
    .setName(SANDBOT_COMMAND)
    .setDescription('Run Python on your files in a sandbox, in this thread')
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall)
    .addSubcommand((sub) => ask(sub.setName(ASK_SUBCOMMAND)));
  for (const [name, define] of Object.entries(CORE_SUBCOMMANDS)) {
    sandbot.addSubcommand((sub) => define(sub.setName(name)));
  }
  const analyze = new ContextMenuCommandBuilder()
    .setName(ANALYZE_COMMAND)
    .setType(ApplicationCommandType.Message)
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall);
  return [sandbot.toJSON(), analyze.toJSON()];
}
