/**
 * JSON shapes of the fake Discord server: users, channels, messages and guilds as Discord's
 * API v10 sends them (types from discord-api-types, re-exported by discord.js), so what the
 * real client parses is what Discord would have sent.
 */
import {
  ChannelType,
  GuildPremiumTier,
  MessageType,
  PermissionFlagsBits,
  ThreadAutoArchiveDuration,
  type APIAttachment,
  type ChannelFlags,
  type MessageFlags,
  type APIChannel,
  type APIDMChannel,
  type APIMessage,
  type APIPublicThreadChannel,
  type APITextChannel,
  type APIUser,
} from 'discord.js';

/** Discord's epoch (2015-01-01), the zero of snowflake timestamps. */
const DISCORD_EPOCH_MS = 1_420_070_400_000n;

/**
 * Snowflake ids: milliseconds since Discord's epoch shifted left 22 bits, plus an increment.
 * Always increasing, also within one millisecond, as Discord's ids are.
 */
export class Snowflakes {
  private last = 0n;

  next(): string {
    const now = (BigInt(Date.now()) - DISCORD_EPOCH_MS) << 22n;
    this.last = now > this.last ? now : this.last + 1n;
    return this.last.toString();
  }
}

export function userJson(id: string, name: string, bot = false): APIUser {
  return {
    id,
    username: name,
    global_name: bot ? null : name,
    discriminator: '0',
    avatar: null,
    ...(bot ? { bot: true } : {}),
  };
}

/** What the bot may do in the guild (its role); channels can deny bits with overwrites. */
export const BOT_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.CreatePublicThreads |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.ReadMessageHistory;

export const EVERYONE_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.UseApplicationCommands;

export function textChannelJson(
  id: string,
  guildId: string,
  name: string,
  overwrites: APITextChannel['permission_overwrites'] = [],
): APITextChannel {
  return {
    id,
    type: ChannelType.GuildText,
    guild_id: guildId,
    name,
    position: 0,
    permission_overwrites: overwrites,
    nsfw: false,
    topic: null,
    last_message_id: null,
    parent_id: null,
    rate_limit_per_user: 0,
    flags: channelFlags(0),
  };
}

export function threadJson(
  id: string,
  guildId: string,
  parentId: string,
  name: string,
  ownerId: string,
  autoArchive: ThreadAutoArchiveDuration,
): APIPublicThreadChannel {
  return {
    id,
    type: ChannelType.PublicThread,
    guild_id: guildId,
    parent_id: parentId,
    name,
    owner_id: ownerId,
    last_message_id: null,
    rate_limit_per_user: 0,
    message_count: 0,
    member_count: 1,
    total_message_sent: 0,
    flags: channelFlags(0),
    thread_metadata: {
      archived: false,
      auto_archive_duration: autoArchive,
      archive_timestamp: new Date().toISOString(),
      locked: false,
      create_timestamp: new Date().toISOString(),
    },
  };
}

export function dmChannelJson(id: string, recipient: APIUser): APIDMChannel {
  return {
    id,
    type: ChannelType.DM,
    name: null,
    recipients: [recipient],
    last_message_id: null,
    flags: channelFlags(0),
  };
}

export function attachmentJson(
  id: string,
  filename: string,
  size: number,
  url: string,
  contentType: string,
): APIAttachment {
  return { id, filename, size, url, proxy_url: url, content_type: contentType };
}

export function messageJson(fields: {
  id: string;
  channel: APIChannel;
  author: APIUser;
  content: string;
  attachments?: APIAttachment[];
  components?: APIMessage['components'];
  mentions?: APIUser[];
  webhookId?: string;
  flags?: number;
}): APIMessage {
  return {
    id: fields.id,
    channel_id: fields.channel.id,
    author: fields.author,
    content: fields.content,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: fields.mentions ?? [],
    mention_roles: [],
    attachments: fields.attachments ?? [],
    embeds: [],
    pinned: false,
    type: MessageType.Default,
    flags: messageFlags(fields.flags ?? 0),
    components: fields.components ?? [],
    ...(fields.webhookId === undefined ? {} : { webhook_id: fields.webhookId }),
  };
}

/** Upload limit by boost tier, as Discord applies it to bots (10 MiB unboosted). */
export function uploadLimitBytes(tier: GuildPremiumTier | undefined): number {
  const mib = 1024 * 1024;
  if (tier === GuildPremiumTier.Tier3) return 100 * mib;
  if (tier === GuildPremiumTier.Tier2) return 50 * mib;
  return 10 * mib;
}

export function isThread(channel: APIChannel): channel is APIPublicThreadChannel {
  return (
    channel.type === ChannelType.PublicThread ||
    channel.type === ChannelType.PrivateThread ||
    channel.type === ChannelType.AnnouncementThread
  );
}

/*
 * Discord's flag fields are bit sets, which discord-api-types types as enums: a combination
 * of bits (or none) is a number, never one of the enum's members, hence the disabled rule.
 */
export function messageFlags(value: number): MessageFlags {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
  return value;
}

function channelFlags(value: number): ChannelFlags {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
  return value;
}

/** A requested auto-archive duration in minutes, or Discord's default of three days. */
export function autoArchiveDuration(minutes: unknown): ThreadAutoArchiveDuration {
  const known = [
    ThreadAutoArchiveDuration.OneHour,
    ThreadAutoArchiveDuration.OneDay,
    ThreadAutoArchiveDuration.ThreeDays,
    ThreadAutoArchiveDuration.OneWeek,
  ];
  return known.find((d) => (d as number) === minutes) ?? ThreadAutoArchiveDuration.ThreeDays;
}
