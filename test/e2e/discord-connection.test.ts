import { GatewayIntentBits } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, createDiscordClient } from '../../adapters/discord/client.ts';
import { startFakeDiscord, type FakeDiscord } from '../fakes/fake-discord-server.ts';

/** Connecting the adapter's client, without a core: what a first start meets. */
describe('Discord: connecting', () => {
  let discord: FakeDiscord | undefined;

  afterEach(async () => {
    await discord?.close();
    discord = undefined;
  });

  it('asks for the four intents over JSON at the URL from the REST base, and heartbeats', async () => {
    discord = await startFakeDiscord({ heartbeatIntervalMs: 100 });
    const fake = discord;
    const client = createDiscordClient({ apiUrl: `${discord.apiUrl}/v10/` });
    try {
      await connectClient(client, discord.token);
      // Heartbeats at the interval hello gave, each acknowledged, the connection kept.
      await fake.waitFor(
        'three heartbeats',
        () => fake.gateway.received.filter((f) => f.op === 1).length >= 3,
      );
      expect(fake.gateway.connections).toHaveLength(1);
      expect(discord.gateway.intents).toBe(
        GatewayIntentBits.Guilds |
          GatewayIntentBits.GuildMessages |
          GatewayIntentBits.MessageContent |
          GatewayIntentBits.DirectMessages,
      );
      expect(discord.requests[0]?.route).toBe('GET /gateway/bot');
      expect(discord.gateway.connections[0]?.url).toBe('/?v=10&encoding=json');
      expect(client.guilds.cache.get(discord.guildId)?.name).toBe('sandbot test server');
    } finally {
      await client.destroy();
    }
    await fake.waitFor('the close', () => fake.gateway.closes.length > 0);
    expect(fake.gateway.closes).toEqual([1000]);
  });

  it('says how to enable Message Content when Discord refuses the intent', async () => {
    discord = await startFakeDiscord({ disallowedIntents: GatewayIntentBits.MessageContent });
    const client = createDiscordClient({ apiUrl: discord.apiUrl });
    try {
      await expect(connectClient(client, discord.token)).rejects.toThrow(
        /enable "Message Content Intent" under Bot → Privileged Gateway Intents/,
      );
    } finally {
      await client.destroy();
    }
  });

  it('says the token was refused', async () => {
    discord = await startFakeDiscord();
    const client = createDiscordClient({ apiUrl: discord.apiUrl });
    try {
      await expect(connectClient(client, `${discord.token.slice(0, -4)}nope`)).rejects.toThrow(
        /Discord refused DISCORD_TOKEN/,
      );
    } finally {
      await client.destroy();
    }
  });
});
