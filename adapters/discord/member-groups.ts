import { GuildMember, type APIInteractionGuildMember } from 'discord.js';

/**
 * A server member's roles as ALLOWED_USERS names them after `discord:` (`role:<id>`), for the
 * access check. Discord sends the roles with every guild message and interaction, so this
 * costs no call; in a DM there is no member and no role applies. @everyone (whose id is the
 * server's) is left out: ALLOWED_CHANNELS names a whole server.
 */
export function memberGroups(
  member: GuildMember | APIInteractionGuildMember | null | undefined,
): string[] {
  if (member === null || member === undefined) return [];
  // A member discord.js could not cache (its guild unknown) arrives as Discord's raw object.
  const ids =
    member instanceof GuildMember
      ? [...member.roles.cache.keys()].filter((id) => id !== member.guild.id)
      : member.roles;
  return ids.map((id) => `role:${id}`);
}
