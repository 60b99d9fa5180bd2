/**
 * Event to first visible progress through the Discord adapter (issue 7): the real discord.js
 * client on the fake Discord's gateway and REST, the real core. A mention arrives as a
 * MESSAGE_CREATE dispatch; the figure is the time until the fake records the bot's first
 * visible progress for it (the typing indicator, or a message, in the thread it opens). The
 * same is measured for a message inside a bot thread (no thread to open). The anchor, in the
 * same run, is one bare REST round trip (POST typing) to the same fake through discord.js's
 * REST client configured as the adapter's is: the floor any visible progress stands on.
 */
import { REST, Routes } from 'discord.js';
import type { FakeDiscord } from '../test/fakes/fake-discord-server.ts';
import { startDiscordHarness } from '../test/fakes/fake-discord-harness.ts';
import { percentile, round, timeMs } from './stats.ts';

const ROUNDS = 30;

export async function benchDiscord(
  image: string,
  log: (line: string) => void,
): Promise<Record<string, number>> {
  log('discord: starting the bot against the fake Discord (gateway and REST)');
  const bot = await startDiscordHarness({
    workerId: `bench-discord-${process.pid}`,
    env: () => ({ SANDBOX_IMAGE: image }),
  });
  const rest = new REST({ api: bot.discord.apiUrl }).setToken(bot.discord.token);
  try {
    const { discord } = bot;
    const channel = discord.createTextChannel('bench');
    const user = discord.createUser('bench');
    const roundTrips: number[] = [];
    const mentionProgress: number[] = [];
    const threadProgress: number[] = [];
    // One warm-up of each, so no figure pays for first-use costs.
    await rest.post(Routes.channelTyping(channel));
    const warm = await mentionOnce();
    await inThreadOnce(warm.thread);
    for (let i = 0; i < ROUNDS; i += 1) {
      roundTrips.push(await timeMs(() => rest.post(Routes.channelTyping(channel))));
      const mention = await mentionOnce();
      mentionProgress.push(mention.progressMs);
      threadProgress.push(await inThreadOnce(mention.thread));
    }
    const progressP50 = percentile(mentionProgress, 50);
    const roundTripP50 = percentile(roundTrips, 50);
    return {
      discord_first_progress_p50_ms: progressP50,
      discord_first_progress_p95_ms: percentile(mentionProgress, 95),
      discord_thread_first_progress_p50_ms: percentile(threadProgress, 50),
      discord_rest_roundtrip_p50_ms: roundTripP50,
      discord_first_progress_vs_roundtrip_ratio: round(progressP50 / roundTripP50),
    };

    /** A mention asking for `help` (no sandbox needed): the time to progress in its thread. */
    async function mentionOnce(): Promise<{ progressMs: number; thread: string }> {
      const posted = discord.postMessage({
        channelId: channel,
        author: user,
        content: `<@${discord.bot.id}> help`,
      });
      // A thread opened from a message takes the message's id.
      const progressMs = await firstProgressMs(discord, posted.id, posted.id);
      await answered(discord, posted.id, 1);
      return { progressMs, thread: posted.id };
    }

    /** `help` inside the bot's thread: no mention, no thread to open. */
    async function inThreadOnce(thread: string): Promise<number> {
      const posted = discord.postMessage({ channelId: thread, author: user, content: 'help' });
      const progressMs = await firstProgressMs(discord, posted.id, thread);
      await answered(discord, thread, 2);
      return progressMs;
    }
  } finally {
    rest.clearHashSweeper();
    rest.clearHandlerSweeper();
    await bot.close();
  }
}

/** From the MESSAGE_CREATE dispatch to the first typing or message request in `channelId`. */
async function firstProgressMs(
  discord: FakeDiscord,
  messageId: string,
  channelId: string,
): Promise<number> {
  const dispatch = discord.gateway.dispatched.find(
    (d) => d.t === 'MESSAGE_CREATE' && (d.d as { id?: string }).id === messageId,
  );
  if (dispatch === undefined) throw new Error(`message ${messageId} was not dispatched`);
  const progress = await discord.waitFor('the first visible progress', () =>
    discord.requests.find(
      (r) =>
        r.at >= dispatch.at &&
        r.params.channel === channelId &&
        (r.route === 'POST /channels/:channel/typing' ||
          r.route === 'POST /channels/:channel/messages'),
    ),
  );
  return progress.at - dispatch.at;
}

/** Waits for the `count`th help answer in a thread, so rounds do not overlap. */
async function answered(discord: FakeDiscord, thread: string, count: number): Promise<void> {
  await discord.waitFor('the help answer', () =>
    discord
      .messages(thread)
      .filter((m) => m.authorId === discord.bot.id && m.content.includes('Commands:')).length >=
    count
      ? true
      : undefined,
  );
}
