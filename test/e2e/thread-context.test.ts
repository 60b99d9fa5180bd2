/**
 * A thread's context, end to end: when the bot is first mentioned in a thread that already has
 * messages, those messages (labelled by author) and their files reach the model's first turn,
 * as if they had been said to the bot. Real Slack adapter against the fake Slack, the real
 * core running code in Docker, the fake model.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  startFakeOpenAI,
  type FakeOpenAI,
  type RecordedRequest,
} from '../fakes/fake-openai-server.ts';
import { startDiscordHarness, type DiscordHarness } from '../fakes/fake-discord-harness.ts';
import { startSlackBot, type SlackBot } from '../fakes/fake-slack-harness.ts';
import { appMention } from '../fakes/fake-slack-payloads.ts';

const services = inject('services');
const ANA = 'U0ANA';
const BO = 'U0BO';

type ChatMessage = { role: string; content: unknown };
const messagesOf = (request: RecordedRequest | undefined) =>
  (request?.body.messages ?? []) as ChatMessage[];

describe.skipIf(services.sandboxImage === undefined)('a thread the bot joins late', () => {
  describe('on Slack', () => {
    let openai: FakeOpenAI;
    let bot: SlackBot;

    beforeAll(async () => {
      openai = await startFakeOpenAI();
      bot = await startSlackBot({
        transport: 'socket',
        embeddedWorkerId: `e2e-thread-context-slack-${process.pid}`,
        env: {
          OPENAI_BASE_URL: openai.baseUrl,
          OPENAI_API_KEY: 'test',
          OPENAI_MODEL: 'fake-model',
          MAX_ATTACHMENT_MB: '1',
        },
      });
      bot.slack.workspace.users.set(ANA, 'ana');
      bot.slack.workspace.users.set(BO, 'bo');
    });

    afterAll(async () => {
      await bot.close();
      await openai.close();
    });

    it("gives the first turn the thread's earlier messages and their files", async () => {
      const channel = 'C0LATE';
      const workspace = bot.slack.workspace;
      const parent = workspace.addUserMessage({ channel, user: ANA, text: 'Q3 numbers are in' });
      const threadTs = parent.ts;
      const csv = bot.slack.addFile(
        'q3.csv',
        Buffer.from('month,revenue\n7,10\n8,12\n'),
        'text/csv',
      );
      workspace.addUserMessage({
        channel,
        user: BO,
        text: 'here they are',
        threadTs,
        files: [csv],
      });
      workspace.addUserMessage({ channel, user: ANA, text: 'August looks better', threadTs });
      workspace.addUserMessage({ channel, user: BO, text: 'by how much?', threadTs });
      workspace.addUserMessage({ channel, user: ANA, text: 'not sure, lets ask', threadTs });
      const mention = {
        channel,
        user: BO,
        text: `<@${bot.slack.ids.botUserId}> what is the growth?`,
        ts: workspace.nextTs(),
        threadTs,
      };
      const code = "print(open('/mnt/data/q3.csv').read())";
      openai.script(
        { kind: 'tool', calls: [{ name: 'python', arguments: JSON.stringify({ code }) }] },
        { kind: 'text', text: 'August grew **20%**.' },
      );

      await bot.slack.sendEvent(appMention(bot.slack.ids, mention));
      await bot.waitForMessage(channel, threadTs, /August grew \*20%\*/);

      const first = JSON.stringify(messagesOf(openai.requests.at(-2)));
      expect(first).toContain(
        [
          'Earlier in this thread:',
          '[ana] Q3 numbers are in',
          '[bo] here they are',
          '[ana] August looks better',
          '[bo] by how much?',
          '[ana] not sure, lets ask',
          '',
          'what is the growth?',
        ].join('\\n'),
      );
      expect(first).toContain('[attached: /mnt/data/q3.csv');
      const tool = messagesOf(openai.requests.at(-1)).findLast((m) => m.role === 'tool');
      expect(JSON.stringify(tool?.content)).toContain('month,revenue\\n7,10\\n8,12');
      const replies = bot.slack.calls.filter((c) => c.method === 'conversations.replies');
      expect(replies.some((c) => c.args.ts === threadTs && c.args.latest === mention.ts)).toBe(
        true,
      );
    });
  });

  describe('on Discord', () => {
    let bot: DiscordHarness;

    beforeAll(async () => {
      bot = await startDiscordHarness({
        workerId: `e2e-thread-context-discord-${process.pid}`,
        env: () => ({ MAX_ATTACHMENT_MB: '1' }),
      });
    });

    afterAll(async () => {
      await bot.close();
    });

    it('a mention replying to an earlier message carries that message and its file', async () => {
      const { discord, openai } = bot;
      const ana = discord.createUser('ana');
      const bo = discord.createUser('bo');
      const channel = discord.createTextChannel('numbers');
      const earlier = discord.postMessage({
        channelId: channel,
        author: bo,
        content: 'July and August revenue',
        attachments: [{ filename: 'q3.csv', content: Buffer.from('month,revenue\n7,10\n8,12\n') }],
      });
      const code = "print(open('/mnt/data/q3.csv').read())";
      openai.script(
        { kind: 'tool', calls: [{ name: 'python', arguments: JSON.stringify({ code }) }] },
        { kind: 'text', text: 'August grew 20%.' },
      );
      const mention = discord.postMessage({
        channelId: channel,
        author: ana,
        content: `<@${discord.bot.id}> what is the growth?`,
        replyTo: earlier.id,
      });

      // The thread opens from the mention and has the mention's id.
      await discord.waitFor('the answer in the thread', () =>
        discord
          .messages(mention.id)
          .find((m) => m.authorId === discord.bot.id && /August grew 20%/.test(m.content)),
      );
      const first = JSON.stringify(messagesOf(openai.requests.at(-2)));
      expect(first).toContain(
        'In reply to:\\n[bo] July and August revenue\\n\\nwhat is the growth?',
      );
      expect(first).toContain('[attached: /mnt/data/q3.csv');
      const tool = messagesOf(openai.requests.at(-1)).findLast((m) => m.role === 'tool');
      expect(JSON.stringify(tool?.content)).toContain('month,revenue\\n7,10\\n8,12');
    });

    it("a first mention in someone's thread carries the thread's earlier messages", async () => {
      const { discord, openai } = bot;
      const cy = discord.createUser('cy');
      const dee = discord.createUser('dee');
      const channel = discord.createTextChannel('planning');
      const starter = discord.postMessage({ channelId: channel, author: cy, content: 'Q4 plan' });
      const thread = discord.startThread({
        channelId: channel,
        messageId: starter.id,
        owner: cy,
        name: 'Q4 plan',
      });
      discord.postMessage({ channelId: thread, author: cy, content: 'budget is 30k' });
      discord.postMessage({ channelId: thread, author: dee, content: 'hiring takes 20k' });
      openai.script({ kind: 'text', text: 'That leaves 10k.' });
      discord.postMessage({
        channelId: thread,
        author: dee,
        content: `<@${discord.bot.id}> what is left?`,
      });

      await discord.waitFor('the answer in the thread', () =>
        discord
          .messages(thread)
          .find((m) => m.authorId === discord.bot.id && /That leaves 10k/.test(m.content)),
      );
      const first = JSON.stringify(messagesOf(openai.requests.at(-1)));
      expect(first).toContain(
        'Earlier in this thread:\\n[cy] budget is 30k\\n[dee] hiring takes 20k\\n\\nwhat is left?',
      );
      expect(
        discord.requests.some(
          (r) => r.route === 'GET /channels/:channel/messages' && r.params.channel === thread,
        ),
      ).toBe(true);
    });
  });
});
