import { setTimeout as delay } from 'node:timers/promises';
import { Events, RESTEvents, type Client } from 'discord.js';
import type { AdapterContext, AdapterFactory, ChatAdapter } from '../../src/core/chat-adapter.ts';
import type { ReplyAddress, ReplyResume, ThreadReply } from '../../src/core/reply.ts';
import { connectClient, createDiscordClient } from './client.ts';
import { errorFields } from './discord-errors.ts';
import { fetchAttachmentByRef, rebuildReply } from './durable-replies.ts';
import { createInteractionHandler } from './interaction-handler.ts';
import { createMessageHandler } from './message-handler.ts';
import { discordApprovalPrompts } from './package-approval-buttons.ts';

/** How long stop() waits for answers in flight; turns still running are the core's to end. */
const DRAIN_MS = 5000;

/**
 * The Discord surface: a discord.js client on the gateway that turns mentions, thread
 * messages, DMs, slash commands and button presses into `conversation.handle` calls.
 * `sandbot start` runs it when DISCORD_TOKEN is set.
 */
export const createDiscordAdapter: AdapterFactory = (context) => new DiscordAdapter(context);

class DiscordAdapter implements ChatAdapter {
  readonly name = 'discord';
  private readonly context: AdapterContext;
  private client: Client | undefined;
  /** REST only, for replies rebuilt while the gateway client is not running. */
  private restClient: Client | undefined;
  /** Events being handled, so stop() can let their answers land. */
  private readonly handling = new Set<Promise<void>>();

  constructor(context: AdapterContext) {
    this.context = { ...context, logger: context.logger.child({ platform: 'discord' }) };
    // Package questions (PACKAGE_APPROVERS), over the same REST client as rebuilt replies.
    const prompts = discordApprovalPrompts(() =>
      this.restClientFor(context.config.discord.token ?? ''),
    );
    context.conversation.offerApprovalPrompts?.('discord', prompts);
  }

  async start(): Promise<void> {
    const { config, logger } = this.context;
    const token = config.discord.token;
    if (token === undefined) throw new Error('the Discord adapter needs DISCORD_TOKEN');
    const client = createDiscordClient({ apiUrl: config.discord.apiUrl });
    this.client = client;
    client.on(Events.Error, (error) => logger.error({ err: error }, 'discord client error'));
    client.on(Events.Warn, (message) => logger.warn(message));
    client.on(Events.ShardReconnecting, () => logger.info('gateway reconnecting'));
    client.on(Events.ShardResume, (_id, replayed) => logger.info({ replayed }, 'gateway resumed'));
    client.rest.on(RESTEvents.RateLimited, (limit) =>
      logger.warn(
        { route: limit.route, retryAfterMs: limit.retryAfter, global: limit.global },
        'discord rate limit: waiting before retrying',
      ),
    );
    client.once(Events.ClientReady, (ready) => {
      const onMessage = createMessageHandler(ready, this.context);
      const onInteraction = createInteractionHandler(this.context);
      ready.on(Events.MessageCreate, (message) => {
        this.track(onMessage(message), { message: message.id });
      });
      ready.on(Events.InteractionCreate, (interaction) => {
        this.track(onInteraction(interaction), { interaction: interaction.id });
      });
    });
    await connectClient(client, token);
    logger.info(
      { user: client.user?.tag, guilds: client.guilds.cache.size },
      'connected to Discord',
    );
  }

  /**
   * A turn's reply from its address (see durable-replies.ts), posted with the gateway
   * client's REST when this process runs it, else with a REST-only client: a process that
   * only runs turns needs no gateway session.
   */
  replyFor(address: ReplyAddress, resume: ReplyResume): ThreadReply | undefined {
    const token = this.context.config.discord.token;
    if (address.surface !== 'discord' || token === undefined) return undefined;
    return rebuildReply(this.restClientFor(token), address, resume, this.context.logger);
  }

  private restClientFor(token: string): Client {
    if (this.client !== undefined) return this.client;
    this.restClient ??= createDiscordClient({ apiUrl: this.context.config.discord.apiUrl });
    this.restClient.rest.setToken(token);
    return this.restClient;
  }

  fetchAttachment(ref: string): Promise<Buffer> {
    const { discord, agent } = this.context.config;
    return fetchAttachmentByRef(ref, discord.apiUrl, agent.maxAttachmentBytes);
  }

  /**
   * Takes no new events, gives the answers being posted a moment to land (their REST calls
   * need the client), then ends the gateway session and the REST client.
   */
  async stop(): Promise<void> {
    const restClient = this.restClient;
    this.restClient = undefined;
    await restClient?.destroy();
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    client.removeAllListeners(Events.MessageCreate);
    client.removeAllListeners(Events.InteractionCreate);
    await Promise.race([
      Promise.allSettled(this.handling),
      delay(DRAIN_MS, undefined, { ref: false }),
    ]);
    client.removeAllListeners();
    client.rest.removeAllListeners();
    await client.destroy();
  }

  /** Keeps a handler's promise until it settles, logging why if it failed. */
  private track(handling: Promise<void>, about: Readonly<Record<string, string>>): void {
    const settled: Promise<void> = handling
      .catch((error: unknown) => {
        this.context.logger.error({ ...errorFields(error), ...about }, 'event not handled');
      })
      .finally(() => this.handling.delete(settled));
    this.handling.add(settled);
  }
}
