import type { BaseInteraction } from 'discord.js';
import { memberGroups } from './member-groups.ts';
import { channelKey, sessionKeyOf } from './session-keys.ts';

/** Who used an interaction, as the core takes an author: their server name and roles. */
export function interactionAuthor(interaction: BaseInteraction): {
  readonly id: string;
  readonly name: string;
  readonly groups: string[];
} {
  return {
    id: interaction.user.id,
    name: interaction.inCachedGuild()
      ? interaction.member.displayName
      : interaction.user.displayName,
    groups: memberGroups(interaction.member),
  };
}

/** In a bot thread the session is the thread; elsewhere it is the channel (or the DM). */
export function interactionSession(interaction: BaseInteraction): string {
  if (interaction.channel !== null) return sessionKeyOf(interaction.channel);
  // Discord always names the channel of these interactions; discord.js may not have it cached.
  if (interaction.channelId === null) throw new Error('an interaction without a channel');
  return channelKey(interaction.guildId, interaction.channelId);
}
