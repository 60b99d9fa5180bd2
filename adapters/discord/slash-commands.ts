import type { Attachment, ChatInputCommandInteraction } from 'discord.js';
import { ASK_SUBCOMMAND, LEGACY_COMMANDS, SANDBOT_COMMAND } from './command-definitions.ts';

/**
 * What a `/sandbot` subcommand asks for: a message for the core, the /run code box, a
 * question (with its file) to answer in a new thread, or the reset confirmation.
 */
export type SlashRequest =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'modal' }
  | { readonly kind: 'ask'; readonly prompt: string; readonly file: Attachment | undefined }
  | { readonly kind: 'confirm-reset' }
  /** Something sandbot does not answer; `reply` says what to use instead. */
  | { readonly kind: 'unknown'; readonly reply: string };

/**
 * A `/sandbot` subcommand as the message text the core understands (`run …`, `files NAME`,
 * `status`, …), or the step before it: the code box when run came without code, the
 * confirmation before a reset.
 */
export function slashRequest(interaction: ChatInputCommandInteraction): SlashRequest {
  if (interaction.commandName !== SANDBOT_COMMAND) return unknown(interaction.commandName);
  const subcommand = interaction.options.getSubcommand(false);
  switch (subcommand) {
    case ASK_SUBCOMMAND:
      return {
        kind: 'ask',
        prompt: interaction.options.getString('prompt')?.trim() ?? '',
        file: interaction.options.getAttachment('file') ?? undefined,
      };
    case 'run': {
      const code = interaction.options.getString('code');
      return code === null || code.trim() === ''
        ? { kind: 'modal' }
        : { kind: 'text', text: `run\n${code}` };
    }
    case 'files': {
      const name = interaction.options.getString('name');
      return { kind: 'text', text: name === null ? 'files' : `files ${name.trim()}`.trim() };
    }
    case 'install':
      return {
        kind: 'text',
        text: `install ${interaction.options.getString('names')?.trim() ?? ''}`.trim(),
      };
    case 'reset':
      return { kind: 'confirm-reset' };
    case 'stop':
    case 'export':
    case 'status':
    case 'packages':
    case 'help':
      return { kind: 'text', text: subcommand };
    default:
      return unknown(`${SANDBOT_COMMAND} ${subcommand ?? ''}`.trim());
  }
}

function unknown(command: string): SlashRequest {
  // A command from before /sandbot, still in someone's picker until Discord refreshes it.
  const legacy = LEGACY_COMMANDS.includes(command);
  return {
    kind: 'unknown',
    reply: legacy
      ? `/${command} is now /${SANDBOT_COMMAND} ${command}.`
      : `I do not know /${command}; try /${SANDBOT_COMMAND} help.`,
  };
}
