/**
 * The Discord adapter as `sandbot start` runs it, against the fakes: the real core (embedded:
 * sandboxes in real Docker), the real discord.js client on the fake Discord, and the real
 * openai client on the fake model. One per test file; every piece is closed by `close()`.
 */
import { Registry } from 'prom-client';
import { createDiscordAdapter } from '../../adapters/discord/index.ts';
import type { Config } from '../../src/core/config.ts';
import { parseConfig } from '../../src/config/config.ts';
import type { ChatAdapter, ConversationPort } from '../../src/core/chat-adapter.ts';
import { HttpServer } from '../../src/http/http-server.ts';
import { buildCore, type Core } from '../../src/runtime/core.ts';
import { removeDataDir, tempDataDir } from '../support/data-dir.ts';
import { quietLogger } from '../support/sandbox.ts';
import { SANDBOX_IMAGE } from '../support/services.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai-server.ts';
import {
  startFakeDiscord,
  type FakeDiscord,
  type FakeDiscordOptions,
} from './fake-discord-server.ts';

export interface DiscordHarness {
  readonly discord: FakeDiscord;
  readonly openai: FakeOpenAI;
  readonly config: Config;
  readonly core: Core;
  readonly adapter: ChatAdapter;
  close(): Promise<void>;
}

export interface DiscordHarnessOptions {
  /** Unique per test file: names the in-process worker's containers. */
  readonly workerId: string;
  readonly fake?: FakeDiscordOptions;
  /** Extra settings; given the fake, so they can name its channels (ALLOWED_CHANNELS). */
  readonly env?: (discord: FakeDiscord) => Record<string, string>;
  /** Wraps the core's conversation port the adapter is given (to see what it hands over). */
  readonly conversation?: (conversation: ConversationPort) => ConversationPort;
}

export async function startDiscordHarness(options: DiscordHarnessOptions): Promise<DiscordHarness> {
  const discord = await startFakeDiscord(options.fake);
  const openai = await startFakeOpenAI();
  const parsed = parseConfig({
    DISCORD_TOKEN: discord.token,
    DISCORD_APP_ID: discord.appId,
    DISCORD_API_URL: discord.apiUrl,
    OPENAI_BASE_URL: openai.baseUrl,
    OPENAI_API_KEY: 'test',
    OPENAI_MODEL: 'fake-model',
    SANDBOX_IMAGE,
    SANDBOX_POOL_SIZE: '0',
    SANDBOX_MEMORY_MB: '384',
    USER_RATE_PER_MINUTE: '0',
    LOG_LEVEL: 'silent',
    SANDBOT_DATA_DIR: tempDataDir('discord'),
    ...options.env?.(discord),
  });
  if (!parsed.ok) throw new Error(`bad test settings: ${JSON.stringify(parsed.problems)}`);
  const config = parsed.config;
  const core = await buildCore(config, quietLogger, { embeddedWorkerId: options.workerId });
  // The adapter mounts nothing (it lives on the gateway), so the server never listens.
  const http = new HttpServer({
    host: '127.0.0.1',
    port: 0,
    logger: quietLogger,
    metrics: new Registry(),
    healthy: () => true,
  });
  const adapter = createDiscordAdapter({
    config,
    conversation: options.conversation?.(core.conversation) ?? core.conversation,
    deliveries: core.deliveries,
    http,
    logger: quietLogger,
  });
  try {
    await adapter.start();
  } catch (error) {
    await Promise.allSettled([core.close(), discord.close(), openai.close()]);
    throw error;
  }
  return {
    discord,
    openai,
    config,
    core,
    adapter,
    async close() {
      await adapter.stop();
      await core.close();
      await Promise.all([discord.close(), openai.close()]);
      removeDataDir(config.dataDir);
    },
  };
}

/** Waits for a message by the bot in a channel whose text matches. */
export function botMessageMatching(discord: FakeDiscord, channelId: string, pattern: RegExp) {
  return discord.waitFor(`a bot message matching ${String(pattern)} in ${channelId}`, () =>
    discord
      .messages(channelId)
      .find((m) => m.authorId === discord.bot.id && pattern.test(m.content)),
  );
}
