import { InteractionResponseType, MessageFlags, type APIUser } from 'discord.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeDiscord, FakeMessage } from '../fakes/fake-discord-server.ts';
import {
  botMessageMatching,
  startDiscordHarness,
  type DiscordHarness,
} from '../fakes/fake-discord-harness.ts';

const services = inject('services');

const python = (code: string) => ({
  kind: 'tool' as const,
  calls: [{ name: 'python', arguments: JSON.stringify({ code }) }],
});

/** What the model was sent, as one string to search. */
function sentToModel(bot: DiscordHarness, index: number): string {
  return JSON.stringify(bot.openai.requests.at(index)?.body.messages ?? []);
}

/** The interaction's reply (@original) once there is one matching `pattern`. */
function replyTo(discord: FakeDiscord, interactionId: string, pattern: RegExp) {
  return discord.waitFor(`the reply to ${interactionId} to match ${String(pattern)}`, () => {
    const interaction = discord.interaction(interactionId);
    const id = interaction?.originalMessageId;
    if (interaction === undefined || id === undefined) return undefined;
    const message = discord.messages(interaction.channelId).find((m) => m.id === id);
    return message !== undefined && pattern.test(message.content) ? message : undefined;
  });
}

/** The bot's answer in a thread (not its progress message, which opened with a Stop button). */
function answerIn(discord: FakeDiscord, channelId: string, pattern: RegExp): Promise<FakeMessage> {
  return discord.waitFor(`an answer matching ${String(pattern)} in ${channelId}`, () =>
    discord
      .messages(channelId)
      .find(
        (m) =>
          m.authorId === discord.bot.id &&
          (m.versions[0]?.components.length ?? 0) === 0 &&
          pattern.test(m.content),
      ),
  );
}

const csv = (text: string) => ({
  filename: 'sales.csv',
  content: Buffer.from(text),
  contentType: 'text/csv',
});

describe.skipIf(services.sandboxImage === undefined)(
  'Discord: /sandbot ask, "Analyze with sandbot" and a reset that asks first',
  () => {
    let bot: DiscordHarness;
    let discord: FakeDiscord;
    let ana: APIUser;
    let bo: APIUser;

    beforeAll(async () => {
      bot = await startDiscordHarness({ workerId: `e2e-discord-sandbot-${process.pid}` });
      discord = bot.discord;
      ana = discord.createUser('ana');
      bo = discord.createUser('bo');
    });

    afterAll(async () => {
      await bot.close();
    });

    it('/sandbot ask with a file answers in a new thread, with the file in /mnt/data', async () => {
      const channel = discord.createTextChannel('ask');
      bot.openai.script(
        python(
          'import pandas as pd\ndf = pd.read_csv("/mnt/data/sales.csv")\nprint("total", df["amount"].sum())',
        ),
        { kind: 'text', text: 'The total is **60**.' },
      );
      const asked = discord.slashCommand({
        channelId: channel,
        user: ana,
        name: 'sandbot',
        subcommand: 'ask',
        options: { prompt: 'what is the total amount?' },
        attachments: { file: csv('month,amount\n7,10\n8,20\n9,30\n') },
      });

      // The reply quotes the question, and the thread opens on it.
      const starter = await replyTo(discord, asked, /what is the total amount\?/);
      expect(starter.content).toBe('> what is the total amount?\n📎 sales.csv');
      const thread = await discord.waitFor('a thread on the reply', () =>
        discord.channel(starter.id),
      );
      expect(thread).toMatchObject({
        parent_id: channel,
        owner_id: discord.bot.id,
        name: 'what is the total amount?',
      });
      const answer = await answerIn(discord, starter.id, /The total is \*\*60\*\*/);
      expect(answer.content).toContain('The total is **60**.');
      // The cell read the file from /mnt/data: its output went back to the model.
      expect(sentToModel(bot, -1)).toContain('total 60');

      // The file came from the CDN into /mnt/data, and the model was told it is there.
      expect(discord.cdnFetches.some((path) => path.endsWith('/sales.csv'))).toBe(true);
      const first = sentToModel(bot, -2);
      expect(first).toContain('what is the total amount?');
      expect(first).toContain('/mnt/data/sales.csv');
      expect(discord.interaction(asked)?.callbacks.map((c) => c.type)).toEqual([
        InteractionResponseType.DeferredChannelMessageWithSource,
      ]);
    });

    it('"Analyze with sandbot" opens a thread on the message, with its text and its files', async () => {
      const channel = discord.createTextChannel('analyze');
      const posted = discord.postMessage({
        channelId: channel,
        author: bo,
        content: 'Q3 sales are in',
        attachments: [csv('month,amount\n7,1\n8,2\n9,3\n')],
      });
      bot.openai.script(
        python(
          'print("sum", sum(int(l.split(",")[1]) for l in open("/mnt/data/sales.csv").readlines()[1:]))',
        ),
        { kind: 'text', text: 'Q3 adds up to 6.' },
      );
      const analyzed = discord.messageCommand({
        channelId: channel,
        messageId: posted.id,
        user: ana,
        name: 'Analyze with sandbot',
      });

      // A thread starts on bo's message, named after it; ana is told where, privately.
      const thread = await discord.waitFor('a thread on the message', () =>
        discord.channel(posted.id),
      );
      expect(thread).toMatchObject({ parent_id: channel, name: 'Q3 sales are in' });
      const pointer = await replyTo(discord, analyzed, /Analyzing it in/);
      expect(pointer.content).toBe(`Analyzing it in <#${posted.id}>.`);
      expect(pointer.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);

      await answerIn(discord, posted.id, /Q3 adds up to 6/);
      expect(sentToModel(bot, -1)).toContain('sum 6');
      // The first turn has the message as when the bot is mentioned in a reply to it.
      const first = sentToModel(bot, -2);
      expect(first).toContain('In reply to:\\n[bo] Q3 sales are in');
      expect(first).toContain('Analyze this message and its files.');
      expect(first).toContain('/mnt/data/sales.csv');
    });

    it('answers /sandbot ask in a DM, and "Analyze with sandbot" in a thread, where they were used', async () => {
      const dm = discord.openDm(ana);
      bot.openai.script(python('print(open("/mnt/data/sales.csv").read().count("\\n"))'), {
        kind: 'text',
        text: 'It has 3 lines.',
      });
      const asked = discord.slashCommand({
        channelId: dm,
        user: ana,
        name: 'sandbot',
        subcommand: 'ask',
        options: { prompt: 'how many lines?' },
        attachments: { file: csv('a\n1\n2\n') },
      });
      const answer = await replyTo(discord, asked, /It has 3 lines/);
      expect(answer.channelId).toBe(dm);
      expect(sentToModel(bot, -1)).toContain('3');
      expect(sentToModel(bot, -2)).toContain('/mnt/data/sales.csv');

      // A thread bo opened, where the bot has no session: the answer comes in the thread.
      const channel = discord.createTextChannel('their-thread');
      const starter = discord.postMessage({ channelId: channel, author: bo, content: 'numbers' });
      const thread = discord.startThread({
        channelId: channel,
        messageId: starter.id,
        owner: bo,
        name: 'numbers',
      });
      const posted = discord.postMessage({
        channelId: thread,
        author: bo,
        content: 'these ones',
        attachments: [csv('month,amount\n1,5\n')],
      });
      bot.openai.script({ kind: 'text', text: 'One month, amount 5.' });
      const analyzed = discord.messageCommand({
        channelId: thread,
        messageId: posted.id,
        user: ana,
        name: 'Analyze with sandbot',
      });
      const there = await replyTo(discord, analyzed, /One month, amount 5/);
      expect(there.channelId).toBe(thread);
      expect(sentToModel(bot, -1)).toContain('In reply to:\\n[bo] these ones');
      expect(sentToModel(bot, -1)).toContain('/mnt/data/sales.csv');
    });

    it('reset does nothing until the person who asked confirms; Cancel keeps the notebook', async () => {
      const channel = discord.createTextChannel('reset');
      const posted = discord.postMessage({
        channelId: channel,
        author: ana,
        content: `<@${discord.bot.id}> run x = 41`,
      });
      const thread = posted.id;
      await answerIn(discord, thread, /x = 41/);

      const reset = discord.slashCommand({
        channelId: thread,
        user: ana,
        name: 'sandbot',
        subcommand: 'reset',
      });
      const question = await replyTo(discord, reset, /Reset\?$/);
      expect(JSON.stringify(question.components)).toContain(`sandbot:reset:confirm:${ana.id}`);
      expect(JSON.stringify(question.components)).toContain(`sandbot:reset:cancel:${ana.id}`);

      // Unconfirmed, nothing happened: the variable is still there.
      discord.postMessage({ channelId: thread, author: ana, content: 'run print(x + 1)' });
      await answerIn(discord, thread, /^```\n42\n```/);

      // Someone else cannot answer for ana.
      const bosPress = discord.clickButton({
        channelId: thread,
        messageId: question.id,
        customId: `sandbot:reset:confirm:${ana.id}`,
        user: bo,
      });
      const refused = await replyTo(discord, bosPress, /Only/);
      expect(refused.content).toBe(
        `Only <@${ana.id}>, who asked for this reset, can confirm or cancel it.`,
      );
      expect(refused.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
      expect(discord.messages(thread).find((m) => m.id === question.id)?.components).not.toEqual(
        [],
      );

      // Cancel: the question says so, loses its buttons, and the notebook is as it was.
      const cancel = discord.clickButton({
        channelId: thread,
        messageId: question.id,
        customId: `sandbot:reset:cancel:${ana.id}`,
        user: ana,
      });
      const cancelled = await replyTo(discord, cancel, /cancelled/);
      expect(cancelled.id).toBe(question.id);
      expect(cancelled.content).toBe('Reset cancelled: the notebook is as it was.');
      expect(cancelled.components).toEqual([]);
      expect(discord.interaction(cancel)?.callbacks.map((c) => c.type)).toEqual([
        InteractionResponseType.UpdateMessage,
      ]);
      discord.postMessage({ channelId: thread, author: ana, content: 'run print(x + 2)' });
      await answerIn(discord, thread, /^```\n43\n```/);

      // Confirmed: the question becomes the reset's answer, without buttons, and x is gone.
      const again = discord.slashCommand({
        channelId: thread,
        user: ana,
        name: 'sandbot',
        subcommand: 'reset',
      });
      const second = await replyTo(discord, again, /Reset\?$/);
      discord.clickButton({
        channelId: thread,
        messageId: second.id,
        customId: `sandbot:reset:confirm:${ana.id}`,
        user: ana,
      });
      const fresh = await discord.waitFor('the confirmation to become the reset', () =>
        discord.messages(thread).find((m) => m.id === second.id && /Fresh start/.test(m.content)),
      );
      expect(fresh.components).toEqual([]);
      discord.postMessage({ channelId: thread, author: ana, content: 'run print(x)' });
      await answerIn(discord, thread, /NameError/);
    });

    it('points an old top-level command to /sandbot', async () => {
      const channel = discord.createTextChannel('old');
      const old = discord.slashCommand({ channelId: channel, user: ana, name: 'reset' });
      const said = await replyTo(discord, old, /sandbot/);
      expect(said.content).toBe('/reset is now /sandbot reset.');
      expect(said.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    });
  },
);

describe.skipIf(services.sandboxImage === undefined)('Discord: ALLOWED_USERS by role', () => {
  let bot: DiscordHarness;
  let discord: FakeDiscord;
  let analysts = '';

  beforeAll(async () => {
    bot = await startDiscordHarness({
      workerId: `e2e-discord-roles-${process.pid}`,
      env: (fake) => {
        analysts = fake.createRole('analysts');
        return { ALLOWED_USERS: `discord:role:${analysts}` };
      },
    });
    discord = bot.discord;
  });

  afterAll(async () => {
    await bot.close();
  });

  it('admits a member with the role, and refuses one without it, politely', async () => {
    const cy = discord.createUser('cy');
    const dee = discord.createUser('dee');
    discord.giveRole(cy, analysts);
    discord.giveRole(dee, discord.createRole('visitors'));
    const channel = discord.createTextChannel('roles');

    bot.openai.script({ kind: 'text', text: 'Hello cy.' });
    const admitted = discord.postMessage({
      channelId: channel,
      author: cy,
      content: `<@${discord.bot.id}> hello`,
    });
    await answerIn(discord, admitted.id, /Hello cy/);

    const refusal =
      'Sorry, I can only work for people on my allowlist. Ask an admin to add you to ALLOWED_USERS.';
    const refused = discord.postMessage({
      channelId: channel,
      author: dee,
      content: `<@${discord.bot.id}> hello`,
    });
    const said = await botMessageMatching(discord, channel, /allowlist/);
    expect(said.content).toBe(refusal);
    expect(discord.channel(refused.id)).toBeUndefined();

    // The same for commands: the role is read from the interaction's member.
    const asked = discord.slashCommand({
      channelId: channel,
      user: dee,
      name: 'sandbot',
      subcommand: 'ask',
      options: { prompt: 'hello' },
    });
    const answer = await replyTo(discord, asked, /allowlist/);
    expect(answer.content).toBe(refusal);
    expect(answer.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    const help = discord.slashCommand({
      channelId: channel,
      user: cy,
      name: 'sandbot',
      subcommand: 'help',
    });
    await replyTo(discord, help, /Commands:/);
  });
});
