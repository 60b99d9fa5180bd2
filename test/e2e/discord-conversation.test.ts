import { PermissionFlagsBits, type APIUser } from 'discord.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeDiscord, FakeMessage } from '../fakes/fake-discord-server.ts';
import { startDiscordHarness, type DiscordHarness } from '../fakes/fake-discord-harness.ts';
import { decodePng, encodePng, pixel } from '../support/png.ts';

const services = inject('services');

/** The bot's messages in a channel: progress messages open with a Stop button, answers do not. */
function botMessages(discord: FakeDiscord, channelId: string) {
  const mine = discord.messages(channelId).filter((m) => m.authorId === discord.bot.id);
  const isStatus = (m: FakeMessage) => (m.versions[0]?.components.length ?? 0) > 0;
  return { status: mine.filter(isStatus), answers: mine.filter((m) => !isStatus(m)) };
}

/** Waits until the bot's answers in a channel include one matching `pattern`. */
function answerIn(discord: FakeDiscord, channelId: string, pattern: RegExp): Promise<FakeMessage> {
  return discord.waitFor(`an answer matching ${String(pattern)} in ${channelId}`, () =>
    botMessages(discord, channelId).answers.find((m) => pattern.test(m.content)),
  );
}

/** The turn is over when its progress message has lost the Stop button. */
function statusClosed(discord: FakeDiscord, channelId: string): Promise<FakeMessage> {
  return discord.waitFor(`the progress message in ${channelId} to close`, () =>
    botMessages(discord, channelId).status.find(
      (m) => m.components.length === 0 && m.content.startsWith('✅'),
    ),
  );
}

function threadOpenedFrom(discord: FakeDiscord, messageId: string) {
  return discord.waitFor(`a thread from message ${messageId}`, () =>
    discord.requests.find(
      (r) =>
        r.route === 'POST /channels/:channel/messages/:message/threads' &&
        r.params.message === messageId &&
        r.status !== 0,
    ),
  );
}

const python = (code: string) => ({
  kind: 'tool' as const,
  calls: [{ name: 'python', arguments: JSON.stringify({ code }) }],
});

describe.skipIf(services.sandboxImage === undefined)(
  'Discord: conversations in threads and DMs',
  () => {
    let bot: DiscordHarness;
    let discord: FakeDiscord;
    let ana: APIUser;
    /** The thread of the first test, reused by the follow-up. */
    let imageThread = '';

    beforeAll(async () => {
      bot = await startDiscordHarness({
        workerId: `e2e-discord-conv-${process.pid}`,
        env: () => ({ MAX_ATTACHMENT_MB: '1' }),
      });
      discord = bot.discord;
      ana = discord.createUser('ana');
    });

    afterAll(async () => {
      await bot.close();
    });

    it('opens a thread for a mention with an image, shows progress, and answers with the PNG', async () => {
      const channel = discord.createTextChannel('images');
      // 40x20: left half red, right half dark blue.
      const width = 40;
      const height = 20;
      const rgb = new Uint8Array(width * height * 3);
      for (let y = 0; y < height; y += 1) {
        for (let x = 0; x < width; x += 1)
          rgb.set(x < width / 2 ? [200, 10, 10] : [0, 0, 90], (y * width + x) * 3);
      }
      const code = [
        'import time',
        'from PIL import Image, ImageOps',
        'print("opening the image", flush=True)',
        'time.sleep(2)  # long enough for the progress message to be edited',
        'img = Image.open("/mnt/data/photo.png").convert("RGB")',
        'w, h = img.size',
        'right = ImageOps.invert(img.crop((w // 2, 0, w, h)))',
        'img.paste(right, (w // 2, 0))',
        'img.save("/mnt/data/result.png")',
        'print("done", img.size)',
      ].join('\n');
      bot.openai.script(python(code), { kind: 'text', text: 'Done: the right half is inverted.' });

      const request = `<@${discord.bot.id}> split this image in two halves and invert the colours of the right half`;
      const posted = discord.postMessage({
        channelId: channel,
        author: ana,
        content: request,
        attachments: [
          {
            filename: 'photo.png',
            content: encodePng({ width, height, rgb }),
            contentType: 'image/png',
          },
        ],
      });

      const opened = await threadOpenedFrom(discord, posted.id);
      expect(opened.json?.name).toBe(
        'split this image in two halves and invert the colours of the right half',
      );
      const thread = discord.channel(posted.id);
      expect(thread).toMatchObject({ parent_id: channel, owner_id: discord.bot.id });
      imageThread = posted.id;

      const answer = await answerIn(discord, imageThread, /right half is inverted/);
      const status = await statusClosed(discord, imageThread);

      // Typing went to the thread before anything else was posted there (request log order).
      const typing = discord.requests.findIndex(
        (r) => r.route === 'POST /channels/:channel/typing' && r.params.channel === imageThread,
      );
      const firstPost = discord.requests.findIndex(
        (r) => r.route === 'POST /channels/:channel/messages' && r.params.channel === imageThread,
      );
      expect(typing).toBeGreaterThanOrEqual(0);
      expect(firstPost).toBeGreaterThan(typing);

      // One progress message, posted with a Stop button, edited as the cell ran, closed at the end.
      expect(status.versions.length).toBeGreaterThanOrEqual(3);
      expect(JSON.stringify(status.versions[0]?.components)).toContain('sandbot:stop');
      expect(status.versions.some((v) => v.content.includes('Running code'))).toBe(true);
      expect(status.versions.some((v) => v.content.includes('opening the image'))).toBe(true);
      const editsBeforeAnswer = status.versions.filter(
        (v) => v.seq < (answer.versions[0]?.seq ?? 0),
      );
      expect(editsBeforeAnswer.length).toBeGreaterThanOrEqual(2);

      // The answer: the text, the code that ran, and the PNG with the right half inverted.
      expect(answer.content).toContain('```python\nimport time');
      const png = answer.attachments.find((a) => a.filename === 'result.png');
      expect(png?.contentType).toBe('image/png');
      const out = decodePng(png?.content ?? Buffer.alloc(0));
      expect([out.width, out.height]).toEqual([width, height]);
      expect(pixel(out, 5, 5)).toEqual([200, 10, 10]);
      expect(pixel(out, 30, 5)).toEqual([255, 255, 165]);
      const upload = discord.requests.find(
        (r) => r.multipart && r.params.channel === imageThread && r.status === 200,
      );
      expect(upload?.files.map((f) => f.filename)).toContain('result.png');
      // discord.js names each file part and refers to it by index in payload_json.
      expect(upload?.files.find((f) => f.filename === 'result.png')?.field).toMatch(
        /^files\[\d+\]$/,
      );

      // The model saw who asked, without the mention, and where the image is.
      const user = (
        bot.openai.requests.at(-2)?.body.messages as { role: string; content: string }[]
      ).find((m) => m.role === 'user');
      expect(user?.content).toMatch(
        /^ana: split this image in two halves and invert the colours of the right half\n\[attached: \/mnt\/data\/photo\.png/,
      );
    });

    it('continues in the thread without a mention, reusing the kernel state', async () => {
      expect(imageThread).not.toBe('');
      bot.openai.script(python('print(w * h)'), (request) => {
        const tool = (request.body.messages as { role: string; content: string }[]).findLast(
          (m) => m.role === 'tool',
        );
        return {
          kind: 'text',
          text: `The image has ${tool?.content.includes('800') === true ? 800 : '?'} pixels.`,
        };
      });
      const threadsBefore = discord.requests.filter((r) => r.route.endsWith('/threads')).length;
      discord.postMessage({
        channelId: imageThread,
        author: ana,
        content: 'how many pixels was that?',
      });
      await answerIn(discord, imageThread, /The image has 800 pixels\./);
      expect(discord.requests.filter((r) => r.route.endsWith('/threads'))).toHaveLength(
        threadsBefore,
      );
    });

    it('answers a DM in the DM', async () => {
      const dm = discord.openDm(ana);
      discord.postMessage({ channelId: dm, author: ana, content: 'run print(6 * 7)' });
      const answer = await answerIn(discord, dm, /42/);
      expect(answer.content).toContain('```\n42\n```');
    });

    it('splits a 3,000-character answer into messages of at most 2,000', async () => {
      const channel = discord.createTextChannel('long');
      const lines = Array.from(
        { length: 60 },
        (_, i) => `Line ${String(i + 1).padStart(2, '0')}: ${'lorem ipsum '.repeat(3)}`,
      );
      const text = lines.join('\n');
      expect(text.length).toBeGreaterThan(2500);
      bot.openai.script({ kind: 'text', text });
      const posted = discord.postMessage({
        channelId: channel,
        author: ana,
        content: `<@${discord.bot.id}> write me sixty lines`,
      });
      await threadOpenedFrom(discord, posted.id);
      await answerIn(discord, posted.id, /Line 60/);
      await statusClosed(discord, posted.id);
      const { answers } = botMessages(discord, posted.id);
      expect(answers).toHaveLength(2);
      for (const message of answers) expect(message.content.length).toBeLessThanOrEqual(2000);
      const received = answers.flatMap((m) => m.content.split('\n')).filter((l) => l.trim() !== '');
      expect(received.map((l) => l.trimEnd())).toEqual(lines.map((l) => l.trimEnd()));
    });

    it('refuses an attachment over the limit without downloading it, and says so', async () => {
      const channel = discord.createTextChannel('limits');
      const big = Buffer.alloc(1536 * 1024, 'a');
      const posted = discord.postMessage({
        channelId: channel,
        author: ana,
        content: `<@${discord.bot.id}> run import os; print(sorted(os.listdir("/mnt/data")))`,
        attachments: [{ filename: 'big.csv', content: big, contentType: 'text/csv' }],
      });
      const answer = await answerIn(discord, posted.id, /big\.csv/);
      expect(answer.content).toMatch(
        /big\.csv is 1\.5 MB, over the 1(\.0)? MB limit per file; it was not taken/,
      );
      expect(answer.content).toContain('```\n[]\n```');
      expect(discord.cdnFetches.some((path) => path.endsWith('/big.csv'))).toBe(false);

      // Outgoing too: a file over the server's 10 MiB upload limit is named, not attached.
      discord.postMessage({
        channelId: posted.id,
        author: ana,
        content: 'run open("/mnt/data/huge.bin", "wb").write(b"x" * (11 * 1024 * 1024))',
      });
      const refused = await answerIn(discord, posted.id, /huge\.bin/);
      expect(refused.content).toMatch(/huge\.bin \(11 MB\) is over the 10 MB upload limit/);
      expect(refused.attachments).toEqual([]);
    });

    it('answers in the channel, saying why, where it may not open threads or attach files', async () => {
      const channel = discord.createTextChannel('locked');
      discord.denyBot(
        channel,
        PermissionFlagsBits.CreatePublicThreads | PermissionFlagsBits.AttachFiles,
      );
      discord.postMessage({
        channelId: channel,
        author: ana,
        content: `<@${discord.bot.id}> run open("/mnt/data/notes.txt", "w").write("hello"); print("written")`,
      });
      await answerIn(discord, channel, /written/);
      const notice = await answerIn(discord, channel, /not allowed to attach files/);
      expect(notice.content).toContain('`notes.txt`');
      const { answers } = botMessages(discord, channel);
      expect(answers[0]?.content).toMatch(
        /not allowed to create threads here .*answering in this channel/,
      );
      const refusals = discord.requests.filter((r) => r.status === 403);
      expect(refusals.map((r) => r.route)).toEqual(
        expect.arrayContaining([
          'POST /channels/:channel/messages/:message/threads',
          'POST /channels/:channel/messages',
        ]),
      );
    });

    it('ignores other bots and channel chatter without a mention', async () => {
      const channel = discord.createTextChannel('chatter');
      const otherBot = discord.createUser('otherbot', { bot: true });
      const fromBot = discord.postMessage({
        channelId: channel,
        author: otherBot,
        content: `<@${discord.bot.id}> run print("from a bot")`,
      });
      const chatter = discord.postMessage({
        channelId: channel,
        author: ana,
        content: 'run print(1)',
      });
      const asked = discord.postMessage({
        channelId: channel,
        author: ana,
        content: `<@${discord.bot.id}> run print("asked")`,
      });
      await answerIn(discord, asked.id, /asked/);
      const threads = discord.requests.filter((r) => r.route.endsWith('/threads'));
      expect(threads.map((r) => r.params.message)).not.toContain(fromBot.id);
      expect(threads.map((r) => r.params.message)).not.toContain(chatter.id);
      expect(botMessages(discord, channel).answers).toEqual([]);
    });
  },
);
