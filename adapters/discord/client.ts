import { once } from 'node:events';
import { Client, Events, GatewayIntentBits, Partials } from 'discord.js';

export interface DiscordClientSettings {
  /** DISCORD_API_URL: the REST base without the version, e.g. https://discord.com/api. The
   *  gateway address comes from GET /gateway/bot on it, as it does from Discord. */
  readonly apiUrl: string | undefined;
}

/**
 * The discord.js client with what sandbot needs and no more: guild and DM messages with their
 * content (MessageContent is privileged: enable it in the developer portal), and the Channel
 * partial, without which discord.js drops messages from DM channels it has not cached.
 */
export function createDiscordClient(settings: DiscordClientSettings): Client {
  return new Client({
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.MessageContent,
      GatewayIntentBits.DirectMessages,
    ],
    partials: [Partials.Channel],
    rest: settings.apiUrl === undefined ? {} : { api: restBase(settings.apiUrl) },
    // Answers quote model output and user code: they must never ping @everyone, roles or people.
    allowedMentions: { parse: [], repliedUser: false },
  });
}

/** Logs in and resolves once the client is ready (guilds received), or rejects. */
export async function connectClient(client: Client, token: string): Promise<void> {
  const controller = new AbortController();
  const ready = once(client, Events.ClientReady, { signal: controller.signal });
  try {
    await client.login(token);
    await ready;
  } catch (error) {
    throw explainLoginError(error);
  } finally {
    controller.abort();
    // An aborted wait rejects; nobody else awaits it.
    ready.catch(() => undefined);
  }
}

/** discord.js appends /v10 itself, so a base given with a version or a slash is trimmed. */
export function restBase(apiUrl: string): string {
  return apiUrl.replace(/\/+$/, '').replace(/\/v\d+$/, '');
}

/** The two ways a first start usually fails, said with what to do about them. */
function explainLoginError(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (/disallowed intents/i.test(message)) {
    return new Error(
      'Discord refused the Message Content intent: enable "Message Content Intent" under Bot → Privileged Gateway Intents in the developer portal, then start again',
      { cause: error },
    );
  }
  if (/invalid token/i.test(message)) {
    return new Error(
      'Discord refused DISCORD_TOKEN: copy the bot token again from the Bot page (Reset Token)',
      { cause: error },
    );
  }
  return error instanceof Error ? error : new Error(message);
}
