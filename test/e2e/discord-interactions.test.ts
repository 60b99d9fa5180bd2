import { InteractionResponseType, type APIUser } from 'discord.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HELP_TEXT } from '../../src/conversation/help-text.ts';
import type { FakeDiscord, FakeMessage } from '../fakes/fake-discord-server.ts';
import {
  botMessageMatching,
  startDiscordHarness,
  type DiscordHarness,
} from '../fakes/fake-discord-harness.ts';

const services = inject('services');

/** An interaction's acknowledgement, once the bot has sent it. */
function callbackOf(discord: FakeDiscord, interactionId: string) {
  return discord.waitFor(`a callback for interaction ${interactionId}`, () =>
    discord.interaction(interactionId)?.callbacks.at(0),
  );
}

/** The deferred reply (@original) once its content matches. */
function originalMatching(discord: FakeDiscord, interactionId: string, pattern: RegExp) {
  return discord.waitFor(`the reply to ${interactionId} to match ${String(pattern)}`, () => {
    const interaction = discord.interaction(interactionId);
    const id = interaction?.originalMessageId;
    if (interaction === undefined || id === undefined) return undefined;
    const message = discord.messages(interaction.channelId).find((m) => m.id === id);
    return message !== undefined && pattern.test(message.content) ? message : undefined;
  });
}

describe.skipIf(services.sandboxImage === undefined)(
  'Discord: /sandbot subcommands, the run modal and Stop',
  () => {
    let bot: DiscordHarness;
    let discord: FakeDiscord;
    let ana: APIUser;

    beforeAll(async () => {
      bot = await startDiscordHarness({ workerId: `e2e-discord-interactions-${process.pid}` });
      discord = bot.discord;
      ana = discord.createUser('ana');
    });

    afterAll(async () => {
      await bot.close();
    });

    it('/sandbot run opens a code box; the submitted code runs and fills the deferred reply', async () => {
      const channel = discord.createTextChannel('slash');
      const opened = discord.slashCommand({
        channelId: channel,
        user: ana,
        name: 'sandbot',
        subcommand: 'run',
      });
      const modal = await callbackOf(discord, opened);
      expect(modal.type).toBe(InteractionResponseType.Modal);
      expect(modal.data).toMatchObject({ custom_id: 'sandbot:run' });
      expect(JSON.stringify(modal.data?.components)).toMatch(/"custom_id":"code".*"style":2/);

      const submitted = discord.submitModal({
        openedBy: opened,
        user: ana,
        values: { code: 'def double(x):\n    return 2 * x\n\nprint(double(21))' },
      });
      const deferred = await callbackOf(discord, submitted);
      expect(deferred.type).toBe(InteractionResponseType.DeferredChannelMessageWithSource);
      // The reply shows progress, then becomes the answer, which starts with the output.
      const reply = await originalMatching(discord, submitted, /^```\n42\n```/);
      expect(reply.content).toContain('```\n42\n```');
      expect(reply.content).toContain('def double(x):\n    return 2 * x');
      expect(reply.components).toEqual([]);
      // The session is the channel: a later /sandbot run there sees `double`.
      const again = discord.slashCommand({
        channelId: channel,
        user: ana,
        name: 'sandbot',
        subcommand: 'run',
        options: { code: 'print(double(50))' },
      });
      const doubled = await originalMatching(discord, again, /^```\n100\n```/);
      expect(doubled.content).toBe('```\n100\n```\n\n```python\nprint(double(50))\n```');
    });

    it("answers slash commands in a bot thread in that thread's session", async () => {
      const channel = discord.createTextChannel('thread-commands');
      const posted = discord.postMessage({
        channelId: channel,
        author: ana,
        content: `<@${discord.bot.id}> run open("/mnt/data/table.csv", "w").write("a,b\\n1,2\\n"); counter = 7`,
      });
      const thread = posted.id;
      const first = await discord.waitFor('the answer carrying table.csv', () =>
        discord
          .messages(thread)
          .find(
            (m) =>
              m.authorId === discord.bot.id &&
              m.attachments.some((a) => a.filename === 'table.csv'),
          ),
      );
      // No output, so the answer is the code that ran, with the file it wrote.
      expect(first.content).toBe(
        '```python\nopen("/mnt/data/table.csv", "w").write("a,b\\n1,2\\n"); counter = 7\n```',
      );

      const status = discord.slashCommand({
        channelId: thread,
        user: ana,
        name: 'sandbot',
        subcommand: 'status',
      });
      const state = await originalMatching(discord, status, /1 cell\(s\) run in this thread/);
      expect(state.content).toMatch(
        /^Kernel running; 1 cell\(s\) run in it, memory \d+ MB\.\n1 cell\(s\) run in this thread; 1 file\(s\)\.\nModel: fake-model\.\n/,
      );
      // Then the thread's usage, and today's for the asker and the channel (src/metering/).
      expect(state.content).toMatch(
        /\nThis thread: 0 tokens in, 0 out \(0 model calls\), 1 cell, /,
      );
      expect(state.content).toMatch(/\nYou today \(\d{4}-\d{2}-\d{2}, UTC\): /);
      expect(state.content).toMatch(/\nThis channel today: /);

      const files = discord.slashCommand({
        channelId: thread,
        user: ana,
        name: 'sandbot',
        subcommand: 'files',
        options: { name: 'table.csv' },
      });
      const sent = await discord.waitFor('table.csv sent back', () => {
        const id = discord.interaction(files)?.originalMessageId;
        return discord.messages(thread).find((m) => m.id === id && m.attachments.length > 0);
      });
      expect(sent.attachments[0]?.filename).toBe('table.csv');
      expect(sent.attachments[0]?.content.toString()).toBe('a,b\n1,2\n');

      const exported = discord.slashCommand({
        channelId: thread,
        user: ana,
        name: 'sandbot',
        subcommand: 'export',
      });
      const notebook = await originalMatching(discord, exported, /cell\(s\) of this thread/);
      const ipynb = notebook.attachments.find((a) => a.filename === 'thread.ipynb');
      expect(JSON.parse(ipynb?.content.toString() ?? '{}')).toMatchObject({ nbformat: 4 });

      const run = discord.slashCommand({
        channelId: thread,
        user: ana,
        name: 'sandbot',
        subcommand: 'run',
        options: { code: 'print(counter * 6)' },
      });
      const ran = await originalMatching(discord, run, /^```\n42\n```/);
      expect(ran.content).toBe('```\n42\n```\n\n```python\nprint(counter * 6)\n```');

      // Reset asks first (the notebook is the whole thread's); the answer replaces the question.
      const reset = discord.slashCommand({
        channelId: thread,
        user: ana,
        name: 'sandbot',
        subcommand: 'reset',
      });
      const asked = await originalMatching(discord, reset, /Reset\?$/);
      discord.clickButton({
        channelId: thread,
        messageId: asked.id,
        customId: `sandbot:reset:confirm:${ana.id}`,
        user: ana,
      });
      const fresh = await discord.waitFor('the confirmation to become the reset', () =>
        discord.messages(thread).find((m) => m.id === asked.id && /Fresh start/.test(m.content)),
      );
      expect(fresh.content).toBe(
        'Fresh start: new kernel, no variables, empty /mnt/data, and I forgot this thread.',
      );

      const help = discord.slashCommand({
        channelId: thread,
        user: ana,
        name: 'sandbot',
        subcommand: 'help',
      });
      const helped = await originalMatching(discord, help, /Commands:/);
      expect(helped.content).toBe(HELP_TEXT);
      expect(fresh.components).toEqual([]);
      expect(discord.interaction(reset)?.callbacks.map((c) => c.type)).toEqual([
        InteractionResponseType.ChannelMessageWithSource,
      ]);
      for (const id of [status, files, exported, run, help]) {
        expect(discord.interaction(id)?.callbacks.map((c) => c.type)).toEqual([
          InteractionResponseType.DeferredChannelMessageWithSource,
        ]);
      }
    });

    it('stops a long cell when Stop is pressed, and takes the button away', async () => {
      const channel = discord.createTextChannel('stop');
      const posted = discord.postMessage({
        channelId: channel,
        author: ana,
        content: `<@${discord.bot.id}> run\n\`\`\`python\nimport time\nfor i in range(600):\n    print("tick", i, flush=True)\n    time.sleep(0.1)\n\`\`\``,
      });
      const thread = posted.id;
      // The progress message shows the cell's output with the Stop button.
      const progress = await discord.waitFor('progress showing output', () =>
        discord
          .messages(thread)
          .find((m: FakeMessage) => m.components.length > 0 && /tick \d+/.test(m.content)),
      );
      const press = discord.clickButton({
        channelId: thread,
        messageId: progress.id,
        customId: 'sandbot:stop',
        user: ana,
      });
      const ack = await callbackOf(discord, press);
      expect(ack.type).toBe(InteractionResponseType.DeferredMessageUpdate);
      const stopping = await botMessageMatching(discord, thread, /Stopping the running cell/);
      expect(stopping.content).toBe('Stopping the running cell.');
      const answer = await botMessageMatching(discord, thread, /KeyboardInterrupt|interrupted/i);
      expect(answer.content).toMatch(/tick \d+/);
      const closed = await discord.waitFor('the progress message without its button', () =>
        discord.messages(thread).find((m) => m.id === progress.id && m.components.length === 0),
      );
      expect(closed.content).toMatch(/^✅/);
      // Stopped long before its 60 seconds were up.
      expect(answer.content).not.toContain('tick 599');
    });

    it('/sandbot stop with nothing running says so, in a DM too', async () => {
      const dm = discord.openDm(ana);
      const stop = discord.slashCommand({
        channelId: dm,
        user: ana,
        name: 'sandbot',
        subcommand: 'stop',
      });
      const reply = await originalMatching(discord, stop, /Nothing is running\./);
      expect(reply.content).toBe('Nothing is running.');
      expect(discord.interaction(stop)?.callbacks.map((c) => c.type)).toEqual([
        InteractionResponseType.DeferredChannelMessageWithSource,
      ]);
    });
  },
);
