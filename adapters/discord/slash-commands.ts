import type { ChatInputCommandInteraction } from 'discord.js';

/** What a slash command asks for: a message for the core, or the /run code box. */
export type SlashRequest =
  { readonly kind: 'text'; readonly text: string } | { readonly kind: 'modal' };

/**
 * A slash command as the message text the core understands (`run …`, `files NAME`, `reset`,
 * …), the code box when /run came without code, or undefined for a command sandbot lacks.
 */
export function slashRequest(interaction: ChatInputCommandInteraction): SlashRequest | undefined {
  switch (interaction.commandName) {
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
    case 'reset':
    case 'stop':
    case 'export':
    case 'status':
    case 'help':
      return { kind: 'text', text: interaction.commandName };
    default:
      return undefined;
  }
}
