import {
  GuildPremiumTier,
  type BaseInteraction,
  type Guild,
  type SendableChannels,
} from 'discord.js';

const MIB = 1024 * 1024;

/** What bots may upload where Discord says nothing else: DMs and unboosted servers. */
export const DEFAULT_UPLOAD_LIMIT_BYTES = 10 * MIB;

/**
 * The server's upload limit for the bot, from its boost tier (the limit Discord applies to
 * the server; discord.js does not compute it). Interactions carry Discord's own figure
 * (`attachmentSizeLimit`), which wins where there is one.
 */
export function guildUploadLimitBytes(guild: Guild | null | undefined): number {
  switch (guild?.premiumTier) {
    case GuildPremiumTier.Tier3:
      return 100 * MIB;
    case GuildPremiumTier.Tier2:
      return 50 * MIB;
    default:
      return DEFAULT_UPLOAD_LIMIT_BYTES;
  }
}

/** Discord's figure for an interaction, or the server's by boost tier when it sent none. */
export function interactionUploadLimitBytes(interaction: BaseInteraction): number {
  // Typed as a number, but payloads from before Discord added the field lack it.
  const reported = interaction.attachmentSizeLimit as number | undefined;
  return reported !== undefined && Number.isInteger(reported) && reported > 0
    ? reported
    : guildUploadLimitBytes(interaction.guild);
}

/** Where a channel reply posts: a DM takes the default, a server channel its server's limit. */
export function channelUploadLimitBytes(channel: SendableChannels): number {
  return channel.isDMBased() ? DEFAULT_UPLOAD_LIMIT_BYTES : guildUploadLimitBytes(channel.guild);
}
