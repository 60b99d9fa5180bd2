/**
 * The state behind the fake Discord server: one guild with its channels, threads and members,
 * DM channels, messages with their edit history and attachment bytes, interactions, and
 * registered commands. REST routes and test actions change it; the gateway announces it.
 */
import {
  ChannelType,
  GatewayIntentBits,
  GuildPremiumTier,
  MessageFlags,
  OverwriteType,
  PermissionFlagsBits,
  type APIAttachment,
  type APIChannel,
  type APIMessage,
  type APIUser,
} from 'discord.js';
import type { UploadedFile } from './fake-discord-multipart.ts';
import {
  BOT_PERMISSIONS,
  EVERYONE_PERMISSIONS,
  Snowflakes,
  attachmentJson,
  messageFlags,
  isThread,
  messageJson,
  uploadLimitBytes,
} from './fake-discord-payloads.ts';

export interface MessageVersion {
  readonly content: string;
  readonly components: readonly unknown[];
  readonly attachments: readonly string[];
  /** This write's place among every message write in the fake (posts and edits, from 1), so
   *  tests compare the order of writes, never their times. */
  readonly seq: number;
}

export interface StoredMessage {
  /** The message as Discord would return it now. */
  json: APIMessage;
  /** Attachment bytes by attachment id. */
  readonly files: Map<string, Buffer>;
  /** The first post and every edit, in order. */
  readonly versions: MessageVersion[];
}

export interface InteractionCallback {
  readonly type: number;
  readonly data: Record<string, unknown> | undefined;
  readonly at: number;
}

export interface StoredInteraction {
  readonly id: string;
  readonly token: string;
  /** InteractionType: 2 command, 3 component, 5 modal submit. */
  readonly type: number;
  readonly channelId: string;
  readonly guildId: string | undefined;
  readonly user: APIUser;
  readonly dispatchedAt: number;
  /** The message a component interaction came from. */
  readonly componentMessageId: string | undefined;
  readonly callbacks: InteractionCallback[];
  /** The interaction's response message (@original), once there is one. */
  originalMessageId: string | undefined;
}

/** A message body after validation: what a create or edit writes. */
export interface MessageWrite {
  readonly content?: string;
  readonly components?: unknown[];
  /** Existing attachment ids to keep (edits); undefined keeps all. */
  readonly keepAttachmentIds?: readonly string[];
  readonly uploads: readonly UploadedFile[];
  readonly flags?: number;
}

export class FakeDiscordWorld {
  readonly ids = new Snowflakes();
  readonly token: string;
  readonly bot: APIUser;
  readonly appId: string;
  readonly guild: { readonly id: string; readonly name: string; premiumTier: GuildPremiumTier };
  readonly botRoleId: string;
  readonly channels = new Map<string, APIChannel>();
  readonly members = new Map<string, APIUser>();
  readonly messages = new Map<string, StoredMessage[]>();
  readonly interactions = new Map<string, StoredInteraction>();
  /** Bytes served on the fake CDN, by URL path. */
  readonly cdn = new Map<string, { content: Buffer; contentType: string }>();
  /** Paths fetched from the CDN, in order (to tell whether a file was downloaded). */
  readonly cdnFetches: string[] = [];
  readonly commands = { global: [] as object[], guilds: new Map<string, object[]>() };
  /** Roles people were given in the guild (beyond @everyone), as role objects. */
  readonly roles: object[] = [];
  /** Each member's role ids, by user id: sent with their messages and interactions. */
  readonly memberRoles = new Map<string, string[]>();
  /** http://127.0.0.1:PORT, known once the server listens. */
  origin = '';
  /** Message writes so far (the last version's `seq`). */
  private writes = 0;

  constructor(options: { botName: string; premiumTier: GuildPremiumTier }) {
    this.appId = this.ids.next();
    // Shaped like a real bot token (base64 id, timestamp, HMAC), as DISCORD_TOKEN requires.
    this.token = `${Buffer.from(this.appId).toString('base64url')}.GfAkEd.f4ke-t0ken-for-l00pback-tests_only`;
    // A bot user's id is its application's id.
    this.bot = {
      id: this.appId,
      username: options.botName,
      global_name: null,
      discriminator: '0',
      avatar: null,
      bot: true,
    };
    this.guild = {
      id: this.ids.next(),
      name: 'sandbot test server',
      premiumTier: options.premiumTier,
    };
    this.botRoleId = this.ids.next();
    this.members.set(this.bot.id, this.bot);
  }

  channel(id: string): APIChannel | undefined {
    return this.channels.get(id);
  }

  guildIdOf(channel: APIChannel): string | undefined {
    return 'guild_id' in channel ? channel.guild_id : undefined;
  }

  /** The guild's upload limit for guild channels; DMs get the unboosted one. */
  uploadLimit(channel: APIChannel): number {
    return uploadLimitBytes(
      this.guildIdOf(channel) === undefined ? GuildPremiumTier.None : this.guild.premiumTier,
    );
  }

  /** Whether the bot lacks a permission in a channel (threads inherit their parent's). */
  botLacks(channel: APIChannel, permission: bigint): boolean {
    if (this.guildIdOf(channel) === undefined) return false;
    const source = isThread(channel) ? this.channel(channel.parent_id ?? '') : channel;
    const overwrites =
      source !== undefined && 'permission_overwrites' in source
        ? (source.permission_overwrites ?? [])
        : [];
    let allowed = BOT_PERMISSIONS | EVERYONE_PERMISSIONS;
    for (const o of overwrites) {
      if (o.id === this.bot.id || o.id === this.botRoleId || o.id === this.guild.id) {
        allowed = (allowed & ~BigInt(o.deny)) | BigInt(o.allow);
      }
    }
    return (allowed & permission) === 0n;
  }

  /** Adds a deny overwrite for the bot's member to a channel. */
  denyBot(channelId: string, permissions: bigint): APIChannel {
    const channel = this.channel(channelId);
    if (channel === undefined || !('permission_overwrites' in channel)) {
      throw new Error(`no guild channel ${channelId}`);
    }
    const overwrites = channel.permission_overwrites ?? [];
    const updated = {
      ...channel,
      permission_overwrites: [
        ...overwrites,
        { id: this.bot.id, type: OverwriteType.Member, allow: '0', deny: permissions.toString() },
      ],
    } as APIChannel;
    this.channels.set(channelId, updated);
    return updated;
  }

  messagesIn(channelId: string): StoredMessage[] {
    let list = this.messages.get(channelId);
    if (list === undefined) {
      list = [];
      this.messages.set(channelId, list);
    }
    return list;
  }

  findMessage(channelId: string, messageId: string): StoredMessage | undefined {
    return this.messages.get(channelId)?.find((m) => m.json.id === messageId);
  }

  createMessage(
    channel: APIChannel,
    author: APIUser,
    write: MessageWrite,
    extra: { webhookId?: string; mentions?: APIUser[] } = {},
  ): StoredMessage {
    const id = this.ids.next();
    const files = new Map<string, Buffer>();
    const attachments = write.uploads.map((file) => this.storeAttachment(channel.id, file, files));
    const stored: StoredMessage = {
      json: messageJson({
        id,
        channel,
        author,
        content: write.content ?? '',
        attachments,
        components: (write.components ?? []) as APIMessage['components'],
        ...(extra.mentions === undefined ? {} : { mentions: extra.mentions }),
        ...(extra.webhookId === undefined ? {} : { webhookId: extra.webhookId }),
        ...(write.flags === undefined ? {} : { flags: write.flags }),
      }),
      files,
      versions: [],
    };
    if (extra.webhookId !== undefined) stored.json.application_id = this.appId;
    stored.versions.push(versionOf(stored.json, ++this.writes));
    this.messagesIn(channel.id).push(stored);
    if ('last_message_id' in channel) channel.last_message_id = id;
    return stored;
  }

  editMessage(stored: StoredMessage, write: MessageWrite): void {
    const json = stored.json;
    const kept =
      write.keepAttachmentIds === undefined
        ? json.attachments
        : json.attachments.filter((a) => write.keepAttachmentIds?.includes(a.id));
    for (const id of stored.files.keys()) {
      if (!kept.some((a) => a.id === id)) stored.files.delete(id);
    }
    const added = write.uploads.map((file) =>
      this.storeAttachment(json.channel_id, file, stored.files),
    );
    stored.json = {
      ...json,
      content: write.content ?? json.content,
      components: (write.components ?? json.components ?? []) as NonNullable<
        APIMessage['components']
      >,
      attachments: [...kept, ...added],
      // An edited deferred response is no longer "thinking".
      flags: messageFlags((write.flags ?? json.flags ?? 0) & ~MessageFlags.Loading),
      edited_timestamp: new Date().toISOString(),
    };
    stored.versions.push(versionOf(stored.json, ++this.writes));
  }

  /** READY's data for a new gateway session. */
  readyPayload(sessionId: string, resumeUrl: string): object {
    return {
      v: 10,
      user: { ...this.bot, verified: true, mfa_enabled: false, flags: 0 },
      guilds: [{ id: this.guild.id, unavailable: true }],
      session_id: sessionId,
      resume_gateway_url: resumeUrl,
      shard: [0, 1],
      application: { id: this.appId, flags: 0 },
      private_channels: [],
      relationships: [],
      user_settings: {},
    };
  }

  /** GUILD_CREATE as Discord sends it after READY (needs the Guilds intent). */
  guildCreatePayload(intents: number): object[] {
    if ((intents & GatewayIntentBits.Guilds) === 0) return [];
    const all = [...this.channels.values()].filter((c) => this.guildIdOf(c) === this.guild.id);
    return [
      {
        id: this.guild.id,
        name: this.guild.name,
        icon: null,
        splash: null,
        discovery_splash: null,
        owner_id: [...this.members.keys()].find((id) => id !== this.bot.id) ?? this.bot.id,
        afk_channel_id: null,
        afk_timeout: 300,
        verification_level: 0,
        default_message_notifications: 0,
        explicit_content_filter: 0,
        roles: [
          role(this.guild.id, '@everyone', EVERYONE_PERMISSIONS, 0),
          {
            ...role(this.botRoleId, this.bot.username, BOT_PERMISSIONS, 1),
            managed: true,
            tags: { bot_id: this.bot.id },
          },
          ...this.roles,
        ],
        emojis: [],
        stickers: [],
        features: [],
        mfa_level: 0,
        application_id: null,
        system_channel_id: null,
        system_channel_flags: 0,
        rules_channel_id: null,
        vanity_url_code: null,
        description: null,
        banner: null,
        premium_tier: this.guild.premiumTier,
        premium_subscription_count: 0,
        preferred_locale: 'en-US',
        public_updates_channel_id: null,
        nsfw_level: 0,
        premium_progress_bar_enabled: false,
        safety_alerts_channel_id: null,
        joined_at: new Date().toISOString(),
        large: false,
        unavailable: false,
        member_count: this.members.size,
        voice_states: [],
        members: [memberJson(this.bot, [this.botRoleId])],
        channels: all.filter((c) => !isThread(c)),
        threads: all.filter((c) => isThread(c)),
        presences: [],
        stage_instances: [],
        guild_scheduled_events: [],
        soundboard_sounds: [],
      },
    ];
  }

  /**
   * MESSAGE_CREATE as a session with `intents` receives it: guild messages need GuildMessages,
   * DMs DirectMessages, and without MessageContent the content, attachments and components are
   * empty unless the message is a DM, mentions the bot, or is the bot's own.
   */
  messageCreatePayload(stored: StoredMessage, intents: number): object | undefined {
    const channel = this.channel(stored.json.channel_id);
    if (channel === undefined) return undefined;
    const guildId = this.guildIdOf(channel);
    const needed =
      guildId === undefined ? GatewayIntentBits.DirectMessages : GatewayIntentBits.GuildMessages;
    if ((intents & needed) === 0) return undefined;
    const json = stored.json;
    const contentVisible =
      (intents & GatewayIntentBits.MessageContent) !== 0 ||
      guildId === undefined ||
      json.author.id === this.bot.id ||
      json.mentions.some((u) => u.id === this.bot.id);
    const visible = contentVisible
      ? json
      : { ...json, content: '', attachments: [], embeds: [], components: [] };
    return {
      ...visible,
      channel_type: channel.type,
      ...(guildId === undefined
        ? {}
        : {
            guild_id: guildId,
            member: memberJson(
              undefined,
              json.author.id === this.bot.id ? [this.botRoleId] : this.rolesOf(json.author.id),
            ),
          }),
    };
  }

  /** A guild role (no permissions of its own), as GUILD_ROLE_CREATE and GUILD_CREATE carry it. */
  createRole(name: string): object {
    const created = role(this.ids.next(), name, 0n, this.roles.length + 2);
    this.roles.push(created);
    return created;
  }

  /** The role ids a member has in the guild (@everyone implied, as Discord sends them). */
  rolesOf(userId: string): string[] {
    return this.memberRoles.get(userId) ?? [];
  }

  /**
   * A file a person attached to a command option: Discord stores it on the CDN as an
   * ephemeral attachment and sends it in the interaction's `resolved.attachments`.
   */
  uploadForInteraction(channelId: string, file: UploadedFile): APIAttachment {
    return { ...this.storeAttachment(channelId, file, new Map()), ephemeral: true };
  }

  private storeAttachment(
    channelId: string,
    file: UploadedFile,
    files: Map<string, Buffer>,
  ): APIAttachment {
    const id = this.ids.next();
    const path = `/attachments/${channelId}/${id}/${encodeURIComponent(file.filename)}`;
    this.cdn.set(path, { content: file.content, contentType: file.contentType });
    files.set(id, file.content);
    return attachmentJson(
      id,
      file.filename,
      file.content.length,
      `${this.origin}${path}`,
      file.contentType,
    );
  }
}

function versionOf(json: APIMessage, seq: number): MessageVersion {
  return {
    content: json.content,
    components: json.components ?? [],
    attachments: json.attachments.map((a) => a.filename),
    seq,
  };
}

function role(id: string, name: string, permissions: bigint, position: number): object {
  return {
    id,
    name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position,
    permissions: permissions.toString(),
    managed: false,
    mentionable: false,
    flags: 0,
  };
}

/** A guild member; without `user` it is the partial member messages carry. */
export function memberJson(user: APIUser | undefined, roles: string[]): object {
  return {
    ...(user === undefined ? {} : { user }),
    nick: null,
    avatar: null,
    roles,
    joined_at: new Date().toISOString(),
    deaf: false,
    mute: false,
    flags: 0,
  };
}

/** What a member may do in a channel, as interactions carry it (`member.permissions`). */
export function memberPermissions(): string {
  return (EVERYONE_PERMISSIONS | PermissionFlagsBits.UseApplicationCommands).toString();
}

export function isDm(channel: APIChannel): boolean {
  return channel.type === ChannelType.DM;
}
