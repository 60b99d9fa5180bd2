import { GatewayOpcodes, type APIUser } from 'discord.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeDiscord } from '../fakes/fake-discord-server.ts';
import {
  botMessageMatching,
  startDiscordHarness,
  type DiscordHarness,
} from '../fakes/fake-discord-harness.ts';

const services = inject('services');

describe.skipIf(services.sandboxImage === undefined)(
  'Discord: rate limits, gateway resume, allowlists, shutdown',
  () => {
    let bot: DiscordHarness;
    let discord: FakeDiscord;
    let ana: APIUser;
    let allowed = '';
    let elsewhere = '';
    /** A bot thread from the first test, continued after the resume. */
    let thread = '';

    beforeAll(async () => {
      bot = await startDiscordHarness({
        workerId: `e2e-discord-resilience-${process.pid}`,
        env: (fake) => {
          allowed = fake.createTextChannel('allowed');
          elsewhere = fake.createTextChannel('elsewhere');
          return { ALLOWED_CHANNELS: `discord:${allowed}` };
        },
      });
      discord = bot.discord;
      ana = discord.createUser('ana');
    });

    afterAll(async () => {
      await bot.close();
    });

    it('waits out a 429 for its retry_after, then the message goes through', async () => {
      const retryAfterS = 1.2;
      discord.rateLimit({ method: 'POST', path: /^\/channels\/\d+\/messages$/, retryAfterS });
      const posted = discord.postMessage({
        channelId: allowed,
        author: ana,
        content: `<@${discord.bot.id}> run print("after the rate limit")`,
      });
      thread = posted.id;
      await botMessageMatching(discord, thread, /after the rate limit/);

      const posts = discord.requests.filter(
        (r) => r.method === 'POST' && r.path === `/channels/${thread}/messages`,
      );
      // The fake answers 429 until retry_after has passed, as Discord does: a single 429 means
      // the bot did not ask again before then (no hammering).
      expect(posts.filter((r) => r.status === 429)).toHaveLength(1);
      const limited = posts.findIndex((r) => r.status === 429);
      const retry = posts[limited + 1];
      expect(retry?.status).toBe(200);
      // The retry is the same message, not a later one.
      expect(posts[limited]?.json?.content).toContain('print("after the rate limit")');
      expect(retry?.json?.content).toBe(posts[limited]?.json?.content);
    });

    it('resumes after a reconnect request (op 7), replays what it missed, and answers once', async () => {
      expect(thread).not.toBe('');
      const identifies = () =>
        discord.gateway.received.filter((f) => f.op === (GatewayOpcodes.Identify as number));
      expect(identifies()).toHaveLength(1);

      discord.gateway.requestReconnect();
      await discord.waitFor('the client to close its connection', () => !discord.gateway.connected);
      // Posted while the bot is away: only the resume can deliver it.
      const missed = discord.postMessage({
        channelId: thread,
        author: ana,
        content: 'run print("sent while you were away")',
      });
      await discord.waitFor('the resume', () => discord.gateway.connected);
      await botMessageMatching(discord, thread, /sent while you were away/);

      const resume = discord.gateway.received.find(
        (f) => f.op === (GatewayOpcodes.Resume as number),
      );
      expect(resume?.d).toMatchObject({ session_id: 'fake-session-1', token: discord.token });
      expect(discord.gateway.connections.at(-1)?.url).toMatch(/^\/resume\?v=10&encoding=json/);
      expect(discord.gateway.closes[0]).toBe(4200); // closed to resume, not to end the session
      expect(identifies()).toHaveLength(1);
      const replayed = discord.gateway.dispatched.find(
        (d) => d.t === 'MESSAGE_CREATE' && (d.d as { id: string }).id === missed.id,
      );
      expect(replayed).toBeDefined();

      // The next message after the resume is answered too, and each exactly once.
      discord.postMessage({ channelId: thread, author: ana, content: 'run print("and after")' });
      await botMessageMatching(discord, thread, /and after/);
      const answers = discord
        .messages(thread)
        .filter((m) => m.authorId === discord.bot.id && /while you were away/.test(m.content));
      expect(answers.filter((m) => m.content.includes('```\nsent while'))).toHaveLength(1);
    });

    it('leaves access to the core policy: outside ALLOWED_CHANNELS it says it is not enabled', async () => {
      const posted = discord.postMessage({
        channelId: elsewhere,
        author: ana,
        content: `<@${discord.bot.id}> run print("should not run")`,
      });
      // Answered in the channel, before any thread is opened for a refused mention.
      const refusal = await botMessageMatching(discord, elsewhere, /not enabled in this channel/);
      expect(refusal.content).toContain('ALLOWED_CHANNELS');
      const said = discord.messages(elsewhere).filter((m) => m.authorId === discord.bot.id);
      expect(said.map((m) => m.content)).toEqual([refusal.content]);
      expect(discord.requests.some((r) => r.path.includes(`/messages/${posted.id}/threads`))).toBe(
        false,
      );
    });

    it('stops cleanly: the gateway session ends with a normal close', async () => {
      const closesBefore = discord.gateway.closes.length;
      await bot.adapter.stop();
      await discord.waitFor('the close', () => discord.gateway.closes.length > closesBefore);
      expect(discord.gateway.connected).toBe(false);
      expect(discord.gateway.closes.at(-1)).toBe(1000);
    });
  },
);
