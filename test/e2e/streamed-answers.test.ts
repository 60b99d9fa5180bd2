/**
 * Streamed answers, end to end: the scripted model releases its answer in pieces the test
 * controls, and each chat platform shows the answer growing in its status (progress) message
 * before the final answer is posted, once, exactly as written, within the platform's edit pace.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeDiscord, FakeMessage as DiscordMessage } from '../fakes/fake-discord-server.ts';
import { startDiscordHarness, type DiscordHarness } from '../fakes/fake-discord-harness.ts';
import {
  startFakeOpenAI,
  type FakeOpenAI,
  type ScriptedReply,
} from '../fakes/fake-openai-server.ts';
import { startSlackBot, type SlackBot } from '../fakes/fake-slack-harness.ts';
import { appMention } from '../fakes/fake-slack-payloads.ts';

const services = inject('services');

const PIECES = ['Streaming part one', ', then part two', ', and the end.'];
const ANSWER = PIECES.join('');

/** A streamed answer whose second and later pieces wait for `release(i)`. */
function gatedAnswer(): { reply: ScriptedReply; release: (index: number) => void } {
  const releases: (() => void)[] = [];
  const gates = PIECES.map((_, i) =>
    i === 0 ? undefined : new Promise<void>((resolve) => (releases[i] = resolve)),
  );
  return {
    reply: { kind: 'stream', chunks: PIECES, gates },
    release: (index) => releases[index]?.(),
  };
}

describe.skipIf(services.sandboxImage === undefined)(
  'Slack: an answer streams into the status message',
  () => {
    let openai: FakeOpenAI;
    let bot: SlackBot;

    beforeAll(async () => {
      openai = await startFakeOpenAI();
      bot = await startSlackBot({
        transport: 'socket',
        embeddedWorkerId: `e2e-streamed-slack-${process.pid}`,
        env: {
          OPENAI_BASE_URL: openai.baseUrl,
          OPENAI_API_KEY: 'test',
          OPENAI_MODEL: 'fake-model',
        },
      });
    });

    afterAll(async () => {
      await bot.close();
      await openai.close();
    });

    it('shows the answer so far in the status message, then posts the answer once', async () => {
      const channel = 'C0STREAM';
      const { reply, release } = gatedAnswer();
      openai.script(reply);
      const ts = bot.slack.workspace.nextTs();
      await bot.slack.sendEvent(
        appMention(bot.slack.ids, {
          channel,
          user: 'U0ANA',
          text: `<@${bot.slack.ids.botUserId}> tell me a story`,
          ts,
        }),
      );

      /** The status message (it has the Stop button's blocks) once its text matches. */
      const statusShowing = (pattern: RegExp) =>
        bot.slack.waitFor(
          () =>
            bot
              .messagesIn(channel, ts)
              .find((m) => m.blocks !== undefined && m.blocks.length > 0 && pattern.test(m.text)),
          `the status message showing ${String(pattern)}`,
        );
      const first = await statusShowing(/Writing the answer[\s\S]*Streaming part one$/);
      release(1);
      const second = await statusShowing(/Streaming part one, then part two$/);
      expect(second.ts).toBe(first.ts);
      // Nothing but the status message is in the thread while the answer is being written.
      expect(bot.messagesIn(channel, ts).map((m) => m.ts)).toEqual([first.ts]);
      release(2);

      const answer = await bot.waitForMessage(channel, ts, /^Streaming part one/);
      expect(answer.text).toBe(ANSWER);
      await bot.slack.waitFor(
        () => bot.slack.calls.find((c) => c.method === 'chat.delete' && c.args.ts === first.ts),
        'the status message deleted',
      );
      expect(bot.messagesIn(channel, ts).map((m) => m.text)).toEqual([ANSWER]);

      // The partial answer was shown before the answer was posted, and the posts and edits of
      // the status message stayed within the workspace's edit budget (40 a minute).
      const statusWrites = bot.slack.calls.filter(
        (c) =>
          c.args.channel === channel &&
          ((c.method === 'chat.postMessage' && c.args.blocks !== undefined) ||
            (c.method === 'chat.update' && c.args.ts === first.ts)),
      );
      const answerPost = bot.slack.calls.findIndex(
        (c) => c.method === 'chat.postMessage' && c.args.text === ANSWER,
      );
      const partial = bot.slack.calls.findIndex(
        (c) => statusWrites.includes(c) && /part two$/.test(String(c.args.text)),
      );
      expect(partial).toBeGreaterThanOrEqual(0);
      expect(partial).toBeLessThan(answerPost);
      expect(statusWrites.filter((c) => c.method === 'chat.update').length).toBeLessThanOrEqual(40);
      expect(statusWrites.every((c) => c.status !== 429)).toBe(true);
    });
  },
);

describe.skipIf(services.sandboxImage === undefined)(
  'Discord: an answer streams into the progress message',
  () => {
    let bot: DiscordHarness;
    let discord: FakeDiscord;

    beforeAll(async () => {
      bot = await startDiscordHarness({ workerId: `e2e-streamed-discord-${process.pid}` });
      discord = bot.discord;
    });

    afterAll(async () => {
      await bot.close();
    });

    it('edits the progress message with the answer so far, then posts the answer once', async () => {
      const ana = discord.createUser('ana');
      const channel = discord.createTextChannel('stories');
      const { reply, release } = gatedAnswer();
      bot.openai.script(reply);
      const posted = discord.postMessage({
        channelId: channel,
        author: ana,
        content: `<@${discord.bot.id}> tell me a story`,
      });
      const thread = posted.id;
      const mine = () => discord.messages(thread).filter((m) => m.authorId === discord.bot.id);
      const isStatus = (m: DiscordMessage) => (m.versions[0]?.components.length ?? 0) > 0;
      const statusShowing = (pattern: RegExp) =>
        discord.waitFor(`the progress message showing ${String(pattern)}`, () =>
          mine().find((m) => isStatus(m) && pattern.test(m.content)),
        );

      const status = await statusShowing(/Writing the answer[\s\S]*Streaming part one$/);
      release(1);
      await statusShowing(/Streaming part one, then part two$/);
      expect(mine().filter((m) => !isStatus(m))).toEqual([]);
      release(2);

      const answer = await discord.waitFor('the answer', () =>
        mine().find((m) => !isStatus(m) && m.content.startsWith('Streaming')),
      );
      expect(answer.content).toBe(ANSWER);
      const closed = await discord.waitFor('the progress message closed', () =>
        mine().find((m) => m.id === status.id && m.components.length === 0),
      );
      // Closed, it says the turn is over and does not repeat the answer.
      expect(closed.content).toMatch(/^✅ Finished/);
      expect(closed.content).not.toContain('Streaming');
      expect(mine().filter((m) => !isStatus(m))).toHaveLength(1);

      // The partial answer was shown before the answer was posted; one write per state at most
      // (thinking, each piece, closed), none refused as rate limited.
      const answerSeq = answer.versions[0]?.seq ?? 0;
      expect(closed.versions.some((v) => v.seq < answerSeq && /part two$/.test(v.content))).toBe(
        true,
      );
      expect(closed.versions.length).toBeLessThanOrEqual(PIECES.length + 2);
      expect(discord.requests.filter((r) => r.status === 429)).toEqual([]);
    });
  },
);
