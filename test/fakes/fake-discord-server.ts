/**
 * A fake Discord on loopback for e2e tests of the real discord.js client: REST under
 * `${apiUrl}/v10` (pass `apiUrl` as DISCORD_API_URL), the gateway WebSocket at the URL that
 * GET /gateway/bot returns, and a CDN for attachment URLs, all on one port. Tests act as
 * people (post messages, run slash commands, submit modals, press buttons) and as Discord
 * (rate limits, missing permissions, reconnect requests), then read what the bot did.
 */
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ChannelType,
  ComponentType,
  GatewayIntentBits,
  GuildPremiumTier,
  InteractionResponseType,
  InteractionType,
  MessageReferenceType,
  MessageType,
  ThreadAutoArchiveDuration,
  type APIChannel,
  type APIUser,
} from 'discord.js';
import { FakeGateway } from './fake-discord-gateway.ts';
import {
  BOT_PERMISSIONS,
  dmChannelJson,
  textChannelJson,
  threadJson,
  userJson,
} from './fake-discord-payloads.ts';
import {
  FakeDiscordRest,
  type RateLimitRule,
  type RecordedDiscordRequest,
} from './fake-discord-rest.ts';
import {
  FakeDiscordWorld,
  memberJson,
  memberPermissions,
  type MessageVersion,
  type StoredInteraction,
  type StoredMessage,
} from './fake-discord-world.ts';

export type { RecordedDiscordRequest } from './fake-discord-rest.ts';

export interface FakeDiscordOptions {
  /** The guild's boost tier, which sets its upload limit (default none: 10 MiB). */
  readonly premiumTier?: GuildPremiumTier;
  /** Sent in hello (default 41,250 ms, Discord's usual). */
  readonly heartbeatIntervalMs?: number;
  /** Privileged intents not enabled for the application: identifying with them fails (4014). */
  readonly disallowedIntents?: number;
}

/** A message as a test reads it: its current state, its bytes and its history. */
export interface FakeMessage {
  readonly id: string;
  readonly channelId: string;
  readonly authorId: string;
  readonly content: string;
  readonly flags: number;
  readonly components: readonly unknown[];
  readonly attachments: readonly {
    readonly filename: string;
    readonly size: number;
    readonly contentType: string;
    readonly url: string;
    readonly content: Buffer;
  }[];
  readonly versions: readonly MessageVersion[];
}

export interface FakeAttachment {
  readonly filename: string;
  readonly content: Buffer;
  readonly contentType?: string;
}

export interface FakeDiscord {
  /** e.g. http://127.0.0.1:PORT/api: DISCORD_API_URL. */
  readonly apiUrl: string;
  /** A well-formed bot token the fake accepts: DISCORD_TOKEN. */
  readonly token: string;
  /** DISCORD_APP_ID (also the bot user's id). */
  readonly appId: string;
  readonly bot: APIUser;
  readonly guildId: string;
  readonly requests: readonly RecordedDiscordRequest[];
  /** Attachment URLs (paths) the bot downloaded from the CDN. */
  readonly cdnFetches: readonly string[];
  readonly gateway: FakeGateway;
  /** Registered commands: global, and per guild. */
  readonly commands: { readonly global: readonly object[]; guild(id: string): readonly object[] };
  createTextChannel(name: string): string;
  /** A person starts a thread from a message in a text channel; returns its id (the message's). */
  startThread(options: {
    channelId: string;
    messageId: string;
    owner: APIUser;
    name: string;
  }): string;
  createUser(name: string, options?: { bot?: boolean }): APIUser;
  /** The DM channel between the bot and a user. */
  openDm(user: APIUser): string;
  channel(id: string): APIChannel | undefined;
  /** A person posts; mentions are read from `<@id>` in the content, as Discord does. */
  postMessage(options: {
    channelId: string;
    author: APIUser;
    content: string;
    attachments?: readonly FakeAttachment[];
    /** The id of a message in the same channel this one replies to. */
    replyTo?: string;
  }): FakeMessage;
  /**
   * A person runs a slash command; options are string options, `attachments` attachment
   * options (the files go to the CDN and come in `resolved.attachments`), both under
   * `subcommand` when one is given. Returns the interaction id.
   */
  slashCommand(options: {
    channelId: string;
    user: APIUser;
    name: string;
    subcommand?: string;
    options?: Readonly<Record<string, string>>;
    attachments?: Readonly<Record<string, FakeAttachment>>;
  }): string;
  /** A person runs a message command (Apps → `name`) on a message. Returns the interaction id. */
  messageCommand(options: {
    channelId: string;
    messageId: string;
    user: APIUser;
    name: string;
  }): string;
  /** A role in the guild (announced with GUILD_ROLE_CREATE); returns its id. */
  createRole(name: string): string;
  /** Gives a member a role: their next messages and interactions carry it in `member.roles`. */
  giveRole(user: APIUser, roleId: string): void;
  /** A person submits the modal that interaction `openedBy` answered with (callback type 9). */
  submitModal(options: {
    openedBy: string;
    user: APIUser;
    values: Readonly<Record<string, string>>;
  }): string;
  /** A person presses a button on a message. */
  clickButton(options: {
    channelId: string;
    messageId: string;
    customId: string;
    user: APIUser;
  }): string;
  interaction(id: string): StoredInteraction | undefined;
  /** Denies the bot permissions in a channel (an overwrite, announced with CHANNEL_UPDATE). */
  denyBot(channelId: string, permissions: bigint): void;
  /** The next `times` (default 1) matching requests get 429 with retry_after. */
  rateLimit(rule: Omit<RateLimitRule, 'times'> & { times?: number }): void;
  messages(channelId: string): FakeMessage[];
  /** Resolves with the first truthy value of `check`, re-checked on every request and frame. */
  waitFor<T>(
    description: string,
    check: () => T | undefined | null | false,
    timeoutMs?: number,
  ): Promise<T>;
  close(): Promise<void>;
}

export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  // Announced on the next turn of the event loop, so a waiting test sees each request's
  // status and each message's state complete, not halfway through the handler.
  const onChange = () => setImmediate(() => changes.emit('change'));
  const world = new FakeDiscordWorld({
    botName: 'sandbot',
    premiumTier: options.premiumTier ?? GuildPremiumTier.None,
  });
  const token = world.token;

  const gateway = new FakeGateway({
    token,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
    disallowedIntents: options.disallowedIntents ?? 0,
    resumeUrl: () => `${world.origin.replace(/^http/, 'ws')}/resume`,
    ready: (sessionId) =>
      world.readyPayload(sessionId, `${world.origin.replace(/^http/, 'ws')}/resume`),
    guildCreates: (intents) => world.guildCreatePayload(intents),
    onChange,
  });
  const rest = new FakeDiscordRest(world, gateway, onChange);

  const server = createServer((request, response) => {
    rest.handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500).end(String(error));
      else response.destroy();
    });
  });
  server.on('upgrade', (request, socket, head) => gateway.handleUpgrade(request, socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  world.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const guildChannel = (id: string) => {
    const channel = world.channel(id);
    if (channel === undefined) throw new Error(`the fake has no channel ${id}`);
    return channel;
  };
  const guildOf = (channel: APIChannel) => world.guildIdOf(channel);
  const registeredCommand = (name: string) =>
    [...world.commands.global, ...(world.commands.guilds.get(world.guild.id) ?? [])].find(
      (c) => (c as { name?: unknown }).name === name,
    ) as { id?: string } | undefined;

  function dispatchInteraction(
    type: InteractionType,
    channel: APIChannel,
    user: APIUser,
    data: object,
    message?: StoredMessage,
  ): string {
    const id = world.ids.next();
    const interactionToken = `aW50ZXJhY3Rpb24${id}`;
    const guildId = guildOf(channel);
    world.interactions.set(id, {
      id,
      token: interactionToken,
      type,
      channelId: channel.id,
      guildId,
      user,
      dispatchedAt: performance.now(),
      componentMessageId: message?.json.id,
      callbacks: [],
      originalMessageId: undefined,
    });
    gateway.dispatch('INTERACTION_CREATE', () => ({
      id,
      application_id: world.appId,
      type,
      token: interactionToken,
      version: 1,
      data,
      channel_id: channel.id,
      channel: channelForInteraction(channel),
      ...(guildId === undefined
        ? { user, context: 1, authorizing_integration_owners: { '1': user.id } }
        : {
            guild_id: guildId,
            guild: { id: guildId, locale: 'en-US', features: [] },
            guild_locale: 'en-US',
            member: {
              ...memberJson(user, world.rolesOf(user.id)),
              permissions: memberPermissions(),
            },
            context: 0,
            authorizing_integration_owners: { '0': guildId },
          }),
      app_permissions: BOT_PERMISSIONS.toString(),
      locale: 'en-US',
      entitlements: [],
      attachment_size_limit: world.uploadLimit(channel),
      ...(message === undefined ? {} : { message: message.json }),
    }));
    return id;
  }

  const fake: FakeDiscord = {
    apiUrl: `${world.origin}/api`,
    token,
    appId: world.appId,
    bot: world.bot,
    guildId: world.guild.id,
    requests: rest.requests,
    cdnFetches: world.cdnFetches,
    gateway,
    commands: {
      get global() {
        return world.commands.global;
      },
      guild: (id) => world.commands.guilds.get(id) ?? [],
    },

    createTextChannel(name) {
      const channel = textChannelJson(world.ids.next(), world.guild.id, name);
      world.channels.set(channel.id, channel);
      gateway.dispatch('CHANNEL_CREATE', (intents) =>
        (intents & GatewayIntentBits.Guilds) === 0 ? undefined : channel,
      );
      return channel.id;
    },

    startThread({ channelId, messageId, owner, name }) {
      const starter = world.findMessage(channelId, messageId);
      if (starter === undefined) throw new Error(`no message ${messageId} in ${channelId}`);
      const thread = threadJson(
        messageId,
        world.guild.id,
        channelId,
        name,
        owner.id,
        ThreadAutoArchiveDuration.OneDay,
      );
      world.channels.set(thread.id, thread);
      starter.json = { ...starter.json, thread };
      gateway.dispatch('THREAD_CREATE', (intents) =>
        (intents & GatewayIntentBits.Guilds) === 0 ? undefined : { ...thread, newly_created: true },
      );
      return thread.id;
    },

    createUser(name, userOptions = {}) {
      const user = userJson(world.ids.next(), name, userOptions.bot === true);
      world.members.set(user.id, user);
      return user;
    },

    openDm(user) {
      const existing = [...world.channels.values()].find(
        (c) => c.type === ChannelType.DM && c.recipients?.some((r) => r.id === user.id) === true,
      );
      if (existing !== undefined) return existing.id;
      const channel = dmChannelJson(world.ids.next(), user);
      world.channels.set(channel.id, channel);
      return channel.id;
    },

    channel: (id) => world.channel(id),

    postMessage({ channelId, author, content, attachments = [], replyTo }) {
      const channel = guildChannel(channelId);
      const mentioned = [...content.matchAll(/<@!?(\d+)>/g)]
        .map((m) => world.members.get(m[1] ?? ''))
        .filter((u): u is APIUser => u !== undefined);
      const stored = world.createMessage(
        channel,
        author,
        {
          content,
          uploads: attachments.map((a, index) => ({
            field: `files[${index}]`,
            index,
            filename: a.filename,
            contentType: a.contentType ?? 'application/octet-stream',
            content: a.content,
          })),
        },
        { mentions: mentioned },
      );
      if (replyTo !== undefined) {
        stored.json.type = MessageType.Reply;
        stored.json.message_reference = {
          type: MessageReferenceType.Default,
          message_id: replyTo,
          channel_id: channelId,
          ...('guild_id' in channel ? { guild_id: channel.guild_id } : {}),
        };
      }
      gateway.dispatch('MESSAGE_CREATE', (intents) => world.messageCreatePayload(stored, intents));
      return view(stored);
    },

    slashCommand({ channelId, user, name, subcommand, options = {}, attachments = {} }) {
      const channel = guildChannel(channelId);
      const registered = registeredCommand(name);
      const resolved: Record<string, object> = {};
      const values: object[] = Object.entries(options).map(([optionName, value]) => ({
        name: optionName,
        type: ApplicationCommandOptionType.String,
        value,
      }));
      for (const [optionName, file] of Object.entries(attachments)) {
        const attachment = world.uploadForInteraction(channel.id, {
          field: `files[${Object.keys(resolved).length}]`,
          index: Object.keys(resolved).length,
          filename: file.filename,
          contentType: file.contentType ?? 'application/octet-stream',
          content: file.content,
        });
        resolved[attachment.id] = attachment;
        values.push({
          name: optionName,
          type: ApplicationCommandOptionType.Attachment,
          value: attachment.id,
        });
      }
      const given =
        subcommand === undefined
          ? values
          : [
              {
                name: subcommand,
                type: ApplicationCommandOptionType.Subcommand,
                ...(values.length === 0 ? {} : { options: values }),
              },
            ];
      return dispatchInteraction(InteractionType.ApplicationCommand, channel, user, {
        id: registered?.id ?? world.ids.next(),
        name,
        type: ApplicationCommandType.ChatInput,
        ...(given.length === 0 ? {} : { options: given }),
        ...(Object.keys(resolved).length === 0 ? {} : { resolved: { attachments: resolved } }),
      });
    },

    messageCommand({ channelId, messageId, user, name }) {
      const target = world.findMessage(channelId, messageId);
      if (target === undefined) throw new Error(`no message ${messageId} in ${channelId}`);
      return dispatchInteraction(
        InteractionType.ApplicationCommand,
        guildChannel(channelId),
        user,
        {
          id: registeredCommand(name)?.id ?? world.ids.next(),
          name,
          type: ApplicationCommandType.Message,
          target_id: messageId,
          resolved: { messages: { [messageId]: target.json } },
        },
      );
    },

    createRole(name) {
      const created = world.createRole(name) as { id: string };
      gateway.dispatch('GUILD_ROLE_CREATE', (intents) =>
        (intents & GatewayIntentBits.Guilds) === 0
          ? undefined
          : { guild_id: world.guild.id, role: created },
      );
      return created.id;
    },

    giveRole(user, roleId) {
      // GUILD_MEMBER_UPDATE needs the privileged GuildMembers intent, which sandbot does not
      // ask for: the roles reach the bot with the member's next message or interaction.
      world.memberRoles.set(user.id, [...world.rolesOf(user.id), roleId]);
    },

    submitModal({ openedBy, user, values }) {
      const opener = world.interactions.get(openedBy);
      const modal = opener?.callbacks.find(
        (c) => c.type === (InteractionResponseType.Modal as number),
      )?.data;
      if (opener === undefined || modal === undefined) {
        throw new Error(`interaction ${openedBy} did not open a modal`);
      }
      const components = (modal.components as ModalComponent[]).map((c) => submitted(c, values));
      return dispatchInteraction(
        InteractionType.ModalSubmit,
        guildChannel(opener.channelId),
        user,
        {
          custom_id: modal.custom_id,
          components,
        },
      );
    },

    clickButton({ channelId, messageId, customId, user }) {
      const stored = world.findMessage(channelId, messageId);
      if (stored === undefined) throw new Error(`no message ${messageId} in ${channelId}`);
      if (!JSON.stringify(stored.json.components ?? []).includes(`"custom_id":"${customId}"`)) {
        throw new Error(`message ${messageId} has no button ${customId}`);
      }
      return dispatchInteraction(
        InteractionType.MessageComponent,
        guildChannel(channelId),
        user,
        { custom_id: customId, component_type: ComponentType.Button },
        stored,
      );
    },

    interaction: (id) => world.interactions.get(id),

    denyBot(channelId, permissions) {
      const channel = world.denyBot(channelId, permissions);
      gateway.dispatch('CHANNEL_UPDATE', (intents) =>
        (intents & GatewayIntentBits.Guilds) === 0 ? undefined : channel,
      );
    },

    rateLimit(rule) {
      rest.rateLimits.push({ ...rule, times: rule.times ?? 1 });
    },

    messages: (channelId) => world.messagesIn(channelId).map(view),

    waitFor(description, check, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const attempt = (): boolean => {
          let value: ReturnType<typeof check>;
          try {
            value = check();
          } catch (error) {
            finish();
            reject(error instanceof Error ? error : new Error(String(error)));
            return true;
          }
          if (value === undefined || value === null || value === false) return false;
          finish();
          resolve(value);
          return true;
        };
        const listener = () => void attempt();
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(`fake Discord: timed out after ${timeoutMs} ms waiting for ${description}`),
          );
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          changes.off('change', listener);
        };
        if (!attempt()) changes.on('change', listener);
      });
    },

    async close() {
      await gateway.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return fake;
}

function view(stored: StoredMessage): FakeMessage {
  const json = stored.json;
  return {
    id: json.id,
    channelId: json.channel_id,
    authorId: json.author.id,
    content: json.content,
    flags: json.flags ?? 0,
    components: json.components ?? [],
    attachments: json.attachments.map((a) => ({
      filename: a.filename,
      size: a.size,
      contentType: a.content_type ?? 'application/octet-stream',
      url: a.url,
      content: stored.files.get(a.id) ?? Buffer.alloc(0),
    })),
    versions: stored.versions,
  };
}

/** The partial channel interactions carry. */
function channelForInteraction(channel: APIChannel): object {
  if (channel.type === ChannelType.DM) return channel;
  return { ...channel, permissions: memberPermissions() };
}

interface ModalComponent {
  type: number;
  id?: number;
  custom_id?: string;
  component?: ModalComponent;
  components?: ModalComponent[];
}

/** A modal's layout as the submit interaction echoes it: each text input with its value. */
function submitted(component: ModalComponent, values: Readonly<Record<string, string>>): object {
  if (component.component !== undefined) {
    return {
      type: component.type,
      id: component.id,
      component: submitted(component.component, values),
    };
  }
  if (component.components !== undefined) {
    return {
      type: component.type,
      id: component.id,
      components: component.components.map((c) => submitted(c, values)),
    };
  }
  if (component.type === (ComponentType.TextInput as number) && component.custom_id !== undefined) {
    return {
      type: component.type,
      id: component.id,
      custom_id: component.custom_id,
      value: values[component.custom_id] ?? '',
    };
  }
  return { type: component.type, id: component.id };
}
