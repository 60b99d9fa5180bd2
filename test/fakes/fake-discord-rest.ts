/**
 * The REST half of the fake Discord server (API v10 under /api/v10): the routes the adapter
 * and the command registration use, validated as Discord validates them (bot token, 2,000
 * characters, 10 files, the upload limit, empty messages, missing permissions, the 3-second
 * interaction window, double acknowledgement), every request recorded, and 429s with
 * `retry_after` and the X-RateLimit headers when a test asks for them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ChannelType,
  GatewayIntentBits,
  InteractionResponseType,
  MessageFlags,
  PermissionFlagsBits,
  type APIChannel,
} from 'discord.js';
import type { FakeGateway } from './fake-discord-gateway.ts';
import {
  BodyError,
  parseBody,
  readRequestBody,
  type ParsedBody,
  type UploadedFile,
} from './fake-discord-multipart.ts';
import { autoArchiveDuration, isThread, threadJson } from './fake-discord-payloads.ts';
import type {
  FakeDiscordWorld,
  MessageWrite,
  StoredInteraction,
  StoredMessage,
} from './fake-discord-world.ts';

export interface RecordedDiscordRequest {
  readonly method: string;
  /** The path below /api/v10, e.g. /channels/123/messages. */
  readonly path: string;
  /** The matched route, e.g. `POST /channels/:channel/messages`, or `unknown`. */
  readonly route: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** JSON body, or the multipart body's payload_json. */
  readonly json: Record<string, unknown> | undefined;
  readonly files: readonly UploadedFile[];
  readonly multipart: boolean;
  /** performance.now() when the request arrived. */
  readonly at: number;
  status: number;
}

/** The next `times` requests matching method and path are answered 429. Like Discord, the
 *  limited bucket (that method and path, or every route for a global limit) then answers 429 to
 *  every request until `retryAfterS` has passed, so a client that retries too early is seen as
 *  a second 429 in `requests`. */
export interface RateLimitRule {
  readonly method: string;
  readonly path: RegExp;
  readonly retryAfterS: number;
  /** X-RateLimit-Global: a global limit instead of a per-route one. */
  readonly global?: boolean;
  times: number;
}

/** Discord's JSON error; `code` is its stable error code (50013 Missing Permissions, …). */
class ApiError extends Error {
  readonly status: number;
  readonly code: number;
  readonly errors: object | undefined;

  constructor(status: number, code: number, message: string, errors?: object) {
    super(message);
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
}

const MAX_CONTENT_CHARS = 2000;
const MAX_FILES = 10;
const INTERACTION_WINDOW_MS = 3000;
const MAX_NONCE_CHARS = 25;
/** Discord checks an enforced nonce "in the past few minutes"; the fake keeps it five. */
const NONCE_WINDOW_MS = 5 * 60_000;
/** The bucket key of a global rate limit, which holds every route. */
const GLOBAL_BUCKET = 'global';

type Handler = (call: Call) => Promise<Reply> | Reply;
interface Call {
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly body: ParsedBody;
}
type Reply = { status: number; json?: unknown };

interface Route {
  readonly method: string;
  readonly template: string;
  readonly pattern: RegExp;
  readonly names: string[];
  /** Bot routes need `Authorization: Bot <token>`; interaction and webhook routes do not. */
  readonly auth: boolean;
  readonly handler: Handler;
}

export class FakeDiscordRest {
  readonly requests: RecordedDiscordRequest[] = [];
  readonly rateLimits: RateLimitRule[] = [];
  /** performance.now() until which a limited bucket keeps answering 429, by bucket key. */
  private readonly limitedUntilMs = new Map<string, number>();
  private readonly world: FakeDiscordWorld;
  private readonly gateway: FakeGateway;
  private readonly onChange: () => void;
  private readonly routes: Route[] = [];
  /** Messages created with an enforced nonce, by nonce, and when. */
  private readonly nonces = new Map<string, { message: StoredMessage; at: number }>();

  constructor(world: FakeDiscordWorld, gateway: FakeGateway, onChange: () => void) {
    this.world = world;
    this.gateway = gateway;
    this.onChange = onChange;
    this.defineRoutes();
    this.defineCurrentApplication();
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const method = request.method ?? 'GET';
    if (method === 'GET' && url.pathname.startsWith('/attachments/')) {
      this.serveCdn(url.pathname, response);
      return;
    }
    const versioned = /^\/api\/v10(\/.*)$/.exec(url.pathname);
    const path = versioned?.[1] ?? url.pathname;
    const at = performance.now();
    let body: ParsedBody = { json: undefined, files: [], multipart: false };
    let bodyError: BodyError | undefined;
    try {
      body = await parseBody(await readRequestBody(request), request.headers['content-type']);
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      bodyError = error;
    }
    const match = versioned === null ? undefined : this.match(method, path);
    const recorded: RecordedDiscordRequest = {
      method,
      path,
      route: match === undefined ? 'unknown' : `${method} ${match.route.template}`,
      params: match?.params ?? {},
      query: url.searchParams,
      json: body.json,
      files: body.files,
      multipart: body.multipart,
      at,
      status: 0,
    };
    this.requests.push(recorded);
    try {
      const reply =
        this.rateLimited(method, path, response) ??
        (await this.answer(match, request, body, bodyError, url));
      recorded.status = reply.status;
      if (reply.status !== 429)
        send(response, reply.status, reply.json, routeHeaders(recorded.route));
    } catch (error) {
      const api = error instanceof ApiError ? error : new ApiError(500, 0, String(error));
      recorded.status = api.status;
      send(response, api.status, {
        message: api.message,
        code: api.code,
        ...(api.errors === undefined ? {} : { errors: api.errors }),
      });
    }
    this.onChange();
  }

  private async answer(
    match: { route: Route; params: Record<string, string> } | undefined,
    request: IncomingMessage,
    body: ParsedBody,
    bodyError: BodyError | undefined,
    url: URL,
  ): Promise<Reply> {
    if (match === undefined) throw new ApiError(404, 0, '404: Not Found');
    if (match.route.auth && request.headers.authorization !== `Bot ${this.world.token}`) {
      throw new ApiError(401, 0, '401: Unauthorized');
    }
    if (bodyError !== undefined)
      throw new ApiError(
        400,
        50109,
        `The request body contains invalid JSON. (${bodyError.message})`,
      );
    return match.route.handler({ params: match.params, query: url.searchParams, body });
  }

  /** A 429 as Discord sends it, while a bucket is limited or when a rule matches; undefined
   *  lets the request through. */
  private rateLimited(method: string, path: string, response: ServerResponse): Reply | undefined {
    const routeKey = `${method} ${path}`;
    for (const key of [GLOBAL_BUCKET, routeKey]) {
      // Within a millisecond counts as passed: clients' timers have millisecond granularity.
      const stillLimitedMs = (this.limitedUntilMs.get(key) ?? 0) - performance.now();
      if (stillLimitedMs >= 1) {
        return this.send429(response, routeKey, stillLimitedMs / 1000, key === GLOBAL_BUCKET);
      }
    }
    const rule = this.rateLimits.find(
      (r) => r.times > 0 && r.method === method && r.path.test(path),
    );
    if (rule === undefined) return undefined;
    rule.times -= 1;
    const global = rule.global === true;
    this.limitedUntilMs.set(
      global ? GLOBAL_BUCKET : routeKey,
      performance.now() + rule.retryAfterS * 1000,
    );
    return this.send429(response, routeKey, rule.retryAfterS, global);
  }

  /** Discord's 429: `retry_after` and X-RateLimit-Reset-After are the seconds still to wait. */
  private send429(
    response: ServerResponse,
    routeKey: string,
    retryAfterS: number,
    global: boolean,
  ): Reply {
    // Discord reports the wait to the millisecond.
    const waitS = Math.ceil(retryAfterS * 1000) / 1000;
    send(
      response,
      429,
      { message: 'You are being rate limited.', retry_after: waitS, global, code: 0 },
      {
        'retry-after': String(Math.ceil(waitS)),
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset-after': String(waitS),
        'x-ratelimit-reset': String((Date.now() + waitS * 1000) / 1000),
        'x-ratelimit-bucket': bucketHash(routeKey),
        'x-ratelimit-scope': global ? 'global' : 'user',
        ...(global ? { 'x-ratelimit-global': 'true' } : {}),
      },
    );
    return { status: 429 };
  }

  private serveCdn(path: string, response: ServerResponse): void {
    this.world.cdnFetches.push(path);
    const file = this.world.cdn.get(path);
    if (file === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    response
      .writeHead(200, { 'content-type': file.contentType, 'content-length': file.content.length })
      .end(file.content);
  }

  private match(method: string, path: string) {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const found = route.pattern.exec(path);
      if (found === null) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => (params[name] = decodeURIComponent(found[i + 1] ?? '')));
      return { route, params };
    }
    return undefined;
  }

  private on(method: string, template: string, handler: Handler, auth = true): void {
    const names: string[] = [];
    const source = template
      .split('/')
      .map((part) => {
        if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\@]/g, '\\$&');
        names.push(part.slice(1));
        return '([^/]+)';
      })
      .join('/');
    this.routes.push({
      method,
      template,
      pattern: new RegExp(`^${source}$`),
      names,
      auth,
      handler,
    });
  }

  /** GET /applications/@me: the application the bot token belongs to (`sandbot doctor`). */
  private defineCurrentApplication(): void {
    const world = this.world;
    this.on('GET', '/applications/@me', () => ({
      status: 200,
      json: {
        id: world.appId,
        name: world.bot.username,
        icon: null,
        description: '',
        bot_public: false,
        bot_require_code_grant: false,
        verify_key: 'f4ke',
        flags: 0,
        bot: world.bot,
      },
    }));
  }

  private defineRoutes(): void {
    const world = this.world;
    this.on('GET', '/gateway/bot', () => ({
      status: 200,
      json: {
        url: world.origin.replace(/^http/, 'ws'),
        shards: 1,
        session_start_limit: {
          total: 1000,
          remaining: 999,
          reset_after: 14_400_000,
          max_concurrency: 1,
        },
      },
    }));
    this.on(
      'GET',
      '/gateway',
      () => ({ status: 200, json: { url: world.origin.replace(/^http/, 'ws') } }),
      false,
    );
    this.on('GET', '/users/@me', () => ({ status: 200, json: world.bot }));
    this.on('GET', '/channels/:channel', ({ params }) => ({
      status: 200,
      json: this.channelOrThrow(params.channel ?? ''),
    }));
    this.on('POST', '/channels/:channel/typing', ({ params }) => {
      this.channelOrThrow(params.channel ?? '');
      return { status: 204 };
    });
    this.on('POST', '/channels/:channel/messages', ({ params, body }) => {
      const channel = this.channelOrThrow(params.channel ?? '');
      const permission = isThread(channel)
        ? PermissionFlagsBits.SendMessagesInThreads
        : PermissionFlagsBits.SendMessages;
      if (world.botLacks(channel, permission)) throw missingPermissions();
      const write = this.validateWrite(channel, body, { creating: true });
      if (write.uploads.length > 0 && world.botLacks(channel, PermissionFlagsBits.AttachFiles)) {
        throw missingPermissions();
      }
      const nonce = this.enforcedNonce(body);
      const earlier = nonce === undefined ? undefined : this.nonces.get(nonce);
      if (earlier !== undefined && performance.now() - earlier.at < NONCE_WINDOW_MS) {
        // Discord: "that message will be returned and no new message will be created".
        return { status: 200, json: earlier.message.json };
      }
      const stored = world.createMessage(channel, world.bot, write);
      if (nonce !== undefined) this.nonces.set(nonce, { message: stored, at: performance.now() });
      this.announceMessage(stored);
      return { status: 200, json: stored.json };
    });
    // A channel's history, newest first, as Discord pages it: `before` a message id, `limit`.
    this.on('GET', '/channels/:channel/messages', ({ params, query }) => {
      const channel = this.channelOrThrow(params.channel ?? '');
      if (world.botLacks(channel, PermissionFlagsBits.ReadMessageHistory)) {
        throw missingPermissions();
      }
      const before = query.get('before');
      const limit = Math.min(Math.max(Number(query.get('limit') ?? '50') || 50, 1), 100);
      const older = world
        .messagesIn(channel.id)
        .filter((m) => before === null || BigInt(m.json.id) < BigInt(before))
        .map((m) => m.json)
        .reverse();
      return { status: 200, json: older.slice(0, limit) };
    });
    this.on('GET', '/channels/:channel/messages/:message', ({ params }) => ({
      status: 200,
      json: this.messageOrThrow(params.channel ?? '', params.message ?? '').json,
    }));
    this.on('PATCH', '/channels/:channel/messages/:message', ({ params, body }) => {
      const channel = this.channelOrThrow(params.channel ?? '');
      const stored = this.messageOrThrow(channel.id, params.message ?? '');
      if (stored.json.author.id !== world.bot.id) {
        throw new ApiError(403, 50005, 'Cannot edit a message authored by another user');
      }
      const write = this.validateWrite(channel, body, { creating: false, existing: stored });
      if (write.uploads.length > 0 && world.botLacks(channel, PermissionFlagsBits.AttachFiles)) {
        throw missingPermissions();
      }
      world.editMessage(stored, write);
      return { status: 200, json: stored.json };
    });
    this.on('DELETE', '/channels/:channel/messages/:message', ({ params }) => {
      const list = world.messagesIn(params.channel ?? '');
      const index = list.findIndex((m) => m.json.id === params.message);
      if (index < 0) throw new ApiError(404, 10008, 'Unknown Message');
      list.splice(index, 1);
      return { status: 204 };
    });
    this.on('POST', '/channels/:channel/messages/:message/threads', ({ params, body }) =>
      this.startThread(params.channel ?? '', params.message ?? '', body),
    );
    this.on(
      'POST',
      '/interactions/:interaction/:token/callback',
      (call) => this.interactionCallback(call),
      false,
    );
    this.on(
      'GET',
      '/webhooks/:app/:token/messages/:message',
      ({ params }) => ({
        status: 200,
        json: this.webhookMessage(params).json,
      }),
      false,
    );
    this.on(
      'PATCH',
      '/webhooks/:app/:token/messages/:message',
      ({ params, body }) => {
        const stored = this.webhookMessage(params);
        const channel = this.channelOrThrow(stored.json.channel_id);
        world.editMessage(
          stored,
          this.validateWrite(channel, body, { creating: false, existing: stored }),
        );
        return { status: 200, json: stored.json };
      },
      false,
    );
    this.on(
      'DELETE',
      '/webhooks/:app/:token/messages/:message',
      ({ params }) => {
        const stored = this.webhookMessage(params);
        const list = world.messagesIn(stored.json.channel_id);
        list.splice(list.indexOf(stored), 1);
        return { status: 204 };
      },
      false,
    );
    this.on(
      'POST',
      '/webhooks/:app/:token',
      ({ params, query, body }) => {
        const interaction = this.interactionByToken(params.app ?? '', params.token ?? '');
        if (interaction.callbacks.length === 0) throw new ApiError(404, 10015, 'Unknown Webhook');
        const channel = this.channelOrThrow(interaction.channelId);
        const stored = world.createMessage(
          channel,
          world.bot,
          this.validateWrite(channel, body, { creating: true }),
          {
            webhookId: world.appId,
          },
        );
        this.announceMessage(stored);
        return query.get('wait') === 'true' ? { status: 200, json: stored.json } : { status: 204 };
      },
      false,
    );
    for (const scope of [
      '/applications/:app/commands',
      '/applications/:app/guilds/:guild/commands',
    ]) {
      this.on('GET', scope, ({ params }) => ({ status: 200, json: this.commandList(params) }));
      this.on('PUT', scope, ({ params, body }) => this.putCommands(params, body));
    }
  }

  /** Creating needs content, files or components; content at most 2,000; files within limits. */
  /**
   * The nonce of a create that asks for it to be enforced (`enforce_nonce: true`), validated
   * as Discord does (a string or integer of at most 25 characters); undefined otherwise.
   * Messages are only created by the bot here, so the author part of the key is implied.
   */
  private enforcedNonce(body: ParsedBody): string | undefined {
    const json = body.json ?? {};
    const nonce = json.nonce;
    if (nonce === undefined || nonce === null) return undefined;
    if (typeof nonce !== 'string' && typeof nonce !== 'number') {
      throw invalidForm('nonce', 'MODEL_TYPE_CONVERT', 'Could not interpret the value as string.');
    }
    if (String(nonce).length > MAX_NONCE_CHARS) {
      throw invalidForm(
        'nonce',
        'BASE_TYPE_MAX_LENGTH',
        `Must be ${MAX_NONCE_CHARS} or fewer in length.`,
      );
    }
    return json.enforce_nonce === true ? String(nonce) : undefined;
  }

  private validateWrite(
    channel: APIChannel,
    body: ParsedBody,
    mode: { creating: boolean; existing?: StoredMessage },
  ): MessageWrite {
    const json = body.json ?? {};
    const content = json.content;
    if (content !== undefined && content !== null && typeof content !== 'string') {
      throw invalidForm(
        'content',
        'MODEL_TYPE_CONVERT',
        'Could not interpret the value as string.',
      );
    }
    if (typeof content === 'string' && content.length > MAX_CONTENT_CHARS) {
      throw invalidForm(
        'content',
        'BASE_TYPE_MAX_LENGTH',
        `Must be ${MAX_CONTENT_CHARS} or fewer in length.`,
      );
    }
    const listed = Array.isArray(json.attachments)
      ? (json.attachments as { id?: unknown }[])
      : undefined;
    const keep = listed
      ?.map((a) => String(a.id))
      .filter((id) => mode.existing?.files.has(id) === true);
    const kept = keep?.length ?? mode.existing?.json.attachments.length ?? 0;
    if (body.files.length + kept > MAX_FILES) {
      throw invalidForm(
        'attachments',
        'BASE_TYPE_MAX_LENGTH',
        `Must be ${MAX_FILES} or fewer in length.`,
      );
    }
    const limit = this.world.uploadLimit(channel);
    if (body.files.some((f) => f.content.length > limit)) {
      throw new ApiError(413, 40005, 'Request entity too large');
    }
    const components = Array.isArray(json.components) ? (json.components as unknown[]) : undefined;
    const text = typeof content === 'string' ? content : undefined;
    if (
      mode.creating &&
      (text ?? '') === '' &&
      body.files.length === 0 &&
      (components ?? []).length === 0
    ) {
      throw new ApiError(400, 50006, 'Cannot send an empty message');
    }
    const flags = typeof json.flags === 'number' ? json.flags : undefined;
    // An attachments entry may rename its file part (`{ id: n, filename }`).
    const uploads = body.files.map((file) => {
      const entry = listed?.find((a) => String(a.id) === String(file.index)) as
        { filename?: unknown } | undefined;
      return typeof entry?.filename === 'string' ? { ...file, filename: entry.filename } : file;
    });
    return {
      ...(content === null ? { content: '' } : text === undefined ? {} : { content: text }),
      ...(components === undefined ? {} : { components }),
      ...(keep === undefined ? {} : { keepAttachmentIds: keep }),
      uploads,
      ...(flags === undefined ? {} : { flags }),
    };
  }

  private startThread(channelId: string, messageId: string, body: ParsedBody): Reply {
    const world = this.world;
    const channel = this.channelOrThrow(channelId);
    const starter = this.messageOrThrow(channelId, messageId);
    if (channel.type !== ChannelType.GuildText && channel.type !== ChannelType.GuildAnnouncement) {
      throw new ApiError(400, 50024, 'Cannot execute action on this channel type');
    }
    if (world.botLacks(channel, PermissionFlagsBits.CreatePublicThreads))
      throw missingPermissions();
    if (world.channel(messageId) !== undefined) {
      throw new ApiError(400, 160004, 'A thread has already been created for this message');
    }
    const name = body.json?.name;
    if (typeof name !== 'string' || name.length < 1 || name.length > 100) {
      throw invalidForm('name', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    }
    const archive = autoArchiveDuration(body.json?.auto_archive_duration);
    // A thread started from a message takes the message's id.
    const thread = threadJson(messageId, world.guild.id, channelId, name, world.bot.id, archive);
    world.channels.set(thread.id, thread);
    starter.json = { ...starter.json, thread };
    this.gateway.dispatch('THREAD_CREATE', (intents) =>
      (intents & GatewayIntentBits.Guilds) === 0 ? undefined : { ...thread, newly_created: true },
    );
    return { status: 201, json: thread };
  }

  private interactionCallback({ params, query, body }: Call): Reply {
    const world = this.world;
    const interaction = world.interactions.get(params.interaction ?? '');
    if (interaction === undefined || interaction.token !== params.token) {
      throw new ApiError(404, 10062, 'Unknown interaction');
    }
    if (interaction.callbacks.length > 0) {
      throw new ApiError(400, 40060, 'Interaction has already been acknowledged.');
    }
    if (performance.now() - interaction.dispatchedAt > INTERACTION_WINDOW_MS) {
      throw new ApiError(404, 10062, 'Unknown interaction');
    }
    const type = body.json?.type;
    const data = (body.json?.data ?? undefined) as Record<string, unknown> | undefined;
    const channel = this.channelOrThrow(interaction.channelId);
    let message: StoredMessage | undefined;
    switch (type) {
      case InteractionResponseType.ChannelMessageWithSource:
        message = world.createMessage(
          channel,
          world.bot,
          this.validateWrite(channel, { ...body, json: data }, { creating: true }),
          {
            webhookId: world.appId,
          },
        );
        break;
      case InteractionResponseType.DeferredChannelMessageWithSource: {
        const ephemeral = typeof data?.flags === 'number' ? data.flags & MessageFlags.Ephemeral : 0;
        message = world.createMessage(
          channel,
          world.bot,
          { uploads: [], flags: MessageFlags.Loading | ephemeral },
          {
            webhookId: world.appId,
          },
        );
        break;
      }
      case InteractionResponseType.DeferredMessageUpdate:
      case InteractionResponseType.UpdateMessage: {
        if (interaction.componentMessageId === undefined) {
          throw new ApiError(
            400,
            50035,
            'Invalid Form Body: this interaction has no message to update',
          );
        }
        message = this.messageOrThrow(channel.id, interaction.componentMessageId);
        if (type === InteractionResponseType.UpdateMessage) {
          world.editMessage(
            message,
            this.validateWrite(
              channel,
              { ...body, json: data },
              { creating: false, existing: message },
            ),
          );
        }
        break;
      }
      case InteractionResponseType.Modal:
        if (interaction.type === 5)
          throw new ApiError(400, 50035, 'Invalid Form Body: a modal cannot open a modal');
        if (
          typeof data?.custom_id !== 'string' ||
          typeof data.title !== 'string' ||
          !Array.isArray(data.components)
        ) {
          throw new ApiError(
            400,
            50035,
            'Invalid Form Body: a modal needs custom_id, title, components',
          );
        }
        break;
      default:
        throw new ApiError(
          400,
          50035,
          `Invalid Form Body: unsupported callback type ${String(type)}`,
        );
    }
    interaction.callbacks.push({ type, data, at: performance.now() });
    interaction.originalMessageId = message?.json.id;
    if (
      message !== undefined &&
      type !== InteractionResponseType.DeferredMessageUpdate &&
      type !== InteractionResponseType.UpdateMessage
    ) {
      this.announceMessage(message);
    }
    if (query.get('with_response') !== 'true') return { status: 204 };
    return {
      status: 200,
      json: {
        interaction: {
          id: interaction.id,
          type: interaction.type,
          response_message_id: message?.json.id,
          response_message_loading:
            type === InteractionResponseType.DeferredChannelMessageWithSource,
          response_message_ephemeral: false,
        },
        resource: { type, ...(message === undefined ? {} : { message: message.json }) },
      },
    };
  }

  private webhookMessage(params: Record<string, string>): StoredMessage {
    const interaction = this.interactionByToken(params.app ?? '', params.token ?? '');
    const id = params.message === '@original' ? interaction.originalMessageId : params.message;
    const stored = id === undefined ? undefined : this.world.findMessage(interaction.channelId, id);
    if (stored === undefined) throw new ApiError(404, 10008, 'Unknown Message');
    return stored;
  }

  private interactionByToken(app: string, token: string): StoredInteraction {
    const found = [...this.world.interactions.values()].find((i) => i.token === token);
    if (found === undefined || app !== this.world.appId)
      throw new ApiError(404, 10015, 'Unknown Webhook');
    return found;
  }

  private commandList(params: Record<string, string>): object[] {
    if (params.app !== this.world.appId) throw new ApiError(403, 50001, 'Missing Access');
    if (params.guild === undefined) return this.world.commands.global;
    if (params.guild !== this.world.guild.id) throw new ApiError(403, 50001, 'Missing Access');
    return this.world.commands.guilds.get(params.guild) ?? [];
  }

  private putCommands(params: Record<string, string>, body: ParsedBody): Reply {
    this.commandList(params);
    const list = body.list;
    if (list === undefined || !list.every((c) => typeof c === 'object' && c !== null)) {
      throw new ApiError(400, 50035, 'Invalid Form Body: expected an array of commands');
    }
    const saved = (list as Record<string, unknown>[]).map((c) => {
      // Slash command names are one lowercase word; user and message commands (types 2 and 3,
      // shown in the Apps menu) may have capitals and spaces.
      const menu = c.type === 2 || c.type === 3;
      const validName = menu ? /^[-_ \p{L}\p{N}]{1,32}$/u : /^[-_\p{Ll}\p{Lo}\p{N}]{1,32}$/u;
      if (typeof c.name !== 'string' || !validName.test(c.name)) {
        throw invalidForm('name', 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
      }
      return {
        ...c,
        id: this.world.ids.next(),
        application_id: this.world.appId,
        ...(params.guild === undefined ? {} : { guild_id: params.guild }),
        version: this.world.ids.next(),
        type: c.type ?? 1,
      };
    });
    if (params.guild === undefined) this.world.commands.global = saved;
    else this.world.commands.guilds.set(params.guild, saved);
    return { status: 200, json: saved };
  }

  private announceMessage(stored: StoredMessage): void {
    this.gateway.dispatch('MESSAGE_CREATE', (intents) =>
      this.world.messageCreatePayload(stored, intents),
    );
  }

  private channelOrThrow(id: string): APIChannel {
    const channel = this.world.channel(id);
    if (channel === undefined) throw new ApiError(404, 10003, 'Unknown Channel');
    return channel;
  }

  private messageOrThrow(channelId: string, messageId: string): StoredMessage {
    const stored = this.world.findMessage(channelId, messageId);
    if (stored === undefined) throw new ApiError(404, 10008, 'Unknown Message');
    return stored;
  }
}

function missingPermissions(): ApiError {
  return new ApiError(403, 50013, 'Missing Permissions');
}

function invalidForm(field: string, code: string, message: string): ApiError {
  return new ApiError(400, 50035, 'Invalid Form Body', {
    [field]: { _errors: [{ code, message }] },
  });
}

/** Every answer carries its route's bucket, with room to spare unless a rule says otherwise. */
function routeHeaders(route: string): Record<string, string> {
  return {
    'x-ratelimit-limit': '50',
    'x-ratelimit-remaining': '49',
    'x-ratelimit-reset-after': '1',
    'x-ratelimit-reset': String(Date.now() / 1000 + 1),
    'x-ratelimit-bucket': bucketHash(route),
  };
}

function bucketHash(text: string): string {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash.toString(16).padStart(8, '0');
}

function send(
  response: ServerResponse,
  status: number,
  json: unknown,
  headers: Record<string, string> = {},
): void {
  if (status === 204 || json === undefined) {
    response.writeHead(status, headers).end();
    return;
  }
  const text = JSON.stringify(json);
  response
    .writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    })
    .end(text);
}
