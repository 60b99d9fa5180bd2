import type { APIUser } from 'discord.js';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDiscordAdapter } from '../../adapters/discord/index.ts';
import type { ChatAdapter, ConversationPort } from '../../src/core/chat-adapter.ts';
import type { InboundMessage } from '../../src/core/inbound-message.ts';
import { textReply, type ThreadReply } from '../../src/core/reply.ts';
import { HttpServer } from '../../src/http/http-server.ts';
import type { FakeDiscord } from '../fakes/fake-discord-server.ts';
import {
  botMessageMatching,
  startDiscordHarness,
  type DiscordHarness,
} from '../fakes/fake-discord-harness.ts';
import { quietLogger } from '../support/sandbox.ts';

const services = inject('services');

/** The unboosted server's upload limit, which the fake guild has. */
const UPLOAD_LIMIT_BYTES = 10 * 1024 * 1024;

interface HandedOver {
  readonly message: InboundMessage;
  readonly thread: ThreadReply;
}

/** The core's port as the adapter sees it, noting what each call hands over. */
function noting(handed: HandedOver[]) {
  return (conversation: ConversationPort): ConversationPort => ({
    handle(message, thread) {
      handed.push({ message, thread });
      return conversation.handle(message, thread);
    },
    hasSession: (key) => conversation.hasSession(key),
    admits: (platform, place, userId) => conversation.admits(platform, place, userId),
  });
}

describe.skipIf(services.sandboxImage === undefined)(
  'Discord: replies and attachments another bot process can take over',
  () => {
    let bot: DiscordHarness;
    let discord: FakeDiscord;
    let ana: APIUser;
    /** A second adapter on the same settings, never started: a process without the gateway. */
    let other: ChatAdapter;
    const handed: HandedOver[] = [];

    const handedFor = (messageId: string) =>
      discord.waitFor(`the adapter to hand over ${messageId}`, () =>
        handed.find((h) => h.message.messageId === messageId),
      );

    beforeAll(async () => {
      bot = await startDiscordHarness({
        workerId: `e2e-discord-durable-${process.pid}`,
        env: () => ({ MAX_ATTACHMENT_MB: '1' }),
        conversation: noting(handed),
      });
      discord = bot.discord;
      ana = discord.createUser('ana');
      other = createDiscordAdapter({
        config: bot.config,
        conversation: bot.core.conversation,
        deliveries: bot.core.deliveries,
        http: new HttpServer({
          host: '127.0.0.1',
          port: 0,
          logger: quietLogger,
          metrics: new Registry(),
          healthy: () => true,
        }),
        logger: quietLogger,
      });
    });

    afterAll(async () => {
      await other.stop();
      await bot.close();
    });

    it('hands over the message id, its snowflake order, attachment refs and an address another process answers in', async () => {
      const channel = discord.createTextChannel('durable');
      const csv = Buffer.from('month,revenue\njan,10\nfeb,12\n');
      bot.openai.script({ kind: 'text', text: 'First answer.' });
      const posted = discord.postMessage({
        channelId: channel,
        author: ana,
        content: `<@${discord.bot.id}> plot this`,
        attachments: [{ filename: 'revenue.csv', content: csv, contentType: 'text/csv' }],
      });
      const { message, thread } = await handedFor(posted.id);
      expect(message.order).toBe(posted.id);
      const ref = message.attachments[0]?.ref ?? '';
      expect(ref).toBe(posted.attachments[0]?.url);
      expect(ref).not.toContain(discord.token);
      // The thread opened from the mention takes the mention's id.
      expect(thread.address).toEqual({
        surface: 'discord',
        channelId: posted.id,
        messageId: posted.id,
        maxFileBytes: UPLOAD_LIMIT_BYTES,
      });
      await botMessageMatching(discord, posted.id, /^First answer\./);

      expect(await other.fetchAttachment?.(ref)).toEqual(csv);
      const rebuilt = other.replyFor?.(thread.address ?? { surface: 'none' }, {});
      await rebuilt?.reply(textReply('Answered from another process.'));
      const answer = discord
        .messages(posted.id)
        .find((m) => m.content === 'Answered from another process.');
      expect(answer?.authorId).toBe(discord.bot.id);
      expect(discord.messages(channel).map((m) => m.content)).not.toContain(
        'Answered from another process.',
      );
    });

    it('a resumed reply takes over the progress message: says so, then closes it', async () => {
      const channel = discord.createTextChannel('resumed');
      bot.openai.script({ kind: 'text', text: 'Opening answer.' });
      const posted = discord.postMessage({
        channelId: channel,
        author: ana,
        content: `<@${discord.bot.id}> hello`,
      });
      const address = (await handedFor(posted.id)).thread.address ?? { surface: 'none' };
      await botMessageMatching(discord, posted.id, /^Opening answer\./);

      // The first runner posts its progress message, then its process dies.
      const first = other.replyFor?.(address, {});
      const progressId = new Promise<string>((resolve) => first?.onProgressMessage?.(resolve));
      first?.progress({ type: 'running', code: 'print("working")' });
      const id = await progressId;
      expect(discord.messages(posted.id).find((m) => m.id === id)?.components).not.toEqual([]);

      // Another process (here the one with the gateway) resumes the turn and answers.
      const resumed = bot.adapter.replyFor?.(address, { progressMessageId: id });
      const newProgress: string[] = [];
      resumed?.onProgressMessage?.((messageId) => newProgress.push(messageId));
      await resumed?.reply(textReply('Resumed answer.'));

      const messages = discord.messages(posted.id);
      const status = messages.find((m) => m.id === id);
      const answer = messages.find((m) => m.content === 'Resumed answer.');
      const takeover = status?.versions.find((v) => v.content.includes('Resumed after a restart'));
      expect(takeover?.components).not.toEqual([]);
      expect(status?.content).toMatch(/^✅ Finished/);
      expect(status?.content).toContain('resumed after a restart');
      expect(status?.components).toEqual([]);
      expect(takeover?.seq).toBeLessThan(answer?.versions[0]?.seq ?? 0);
      expect(answer?.versions[0]?.seq).toBeLessThan(status?.versions.at(-1)?.seq ?? 0);
      // No second progress message, and nothing left with a Stop button.
      expect(newProgress).toEqual([]);
      expect(messages.filter((m) => m.components.length > 0)).toEqual([]);
    });

    it('an answer posted again under the same key (a runner died before recording it) shows once, with its file', async () => {
      const channel = discord.createTextChannel('once');
      bot.openai.script({ kind: 'text', text: 'Opening.' });
      const posted = discord.postMessage({
        channelId: channel,
        author: ana,
        content: `<@${discord.bot.id}> hello`,
      });
      const address = (await handedFor(posted.id)).thread.address ?? { surface: 'none' };
      await botMessageMatching(discord, posted.id, /^Opening\./);
      const answer = {
        ...textReply('The answer, with a file.'),
        files: [{ name: 'out.csv', content: Buffer.from('a,b\n1,2\n'), mime: 'text/csv' }],
      };
      const key = { id: 'k0123456789abcdefghi' };
      // The first runner posts; Discord's answer never reaches it, so it records nothing.
      await other.replyFor?.(address, {})?.replyOnce?.(answer, key);
      // The resumed runner, in another process, posts the same answer under the same key.
      await bot.adapter
        .replyFor?.(address, {})
        ?.replyOnce?.(answer, { ...key, earlierAttemptAt: Date.now() });
      const answers = discord
        .messages(posted.id)
        .filter((m) => m.content.startsWith('The answer, with a file.'));
      expect(answers).toHaveLength(1);
      expect(answers[0]?.attachments.map((a) => a.filename)).toContain('out.csv');
      const nonces = discord.requests
        .filter(
          (r) => r.route === 'POST /channels/:channel/messages' && r.params.channel === posted.id,
        )
        .map((r) => r.json?.nonce)
        .filter((nonce) => typeof nonce === 'string' && nonce.startsWith(key.id));
      expect(nonces.length).toBeGreaterThanOrEqual(2);
      expect(nonces.every((nonce) => String(nonce).length <= 25)).toBe(true);
    });

    it("a slash command's address names the interaction but not its token; rebuilt, it answers in the channel", async () => {
      const channel = discord.createTextChannel('commands');
      const interactionId = discord.slashCommand({
        channelId: channel,
        user: ana,
        name: 'sandbot',
        subcommand: 'help',
      });
      const { message, thread } = await handedFor(interactionId);
      expect(message.order).toBe(interactionId);
      expect(thread.address).toEqual({
        surface: 'discord',
        channelId: channel,
        interactionId,
        applicationId: discord.appId,
        maxFileBytes: UPLOAD_LIMIT_BYTES,
      });
      const token = discord.interaction(interactionId)?.token ?? 'no token';
      expect(JSON.stringify(thread.address)).not.toContain(token);
      await botMessageMatching(discord, channel, /^I run Python/);

      await other
        .replyFor?.(thread.address ?? { surface: 'none' }, {})
        ?.reply(textReply('Answered in the channel.'));
      const post = discord.requests.find(
        (r) =>
          r.route === 'POST /channels/:channel/messages' &&
          r.params.channel === channel &&
          r.json?.content === 'Answered in the channel.',
      );
      expect(post?.status).toBe(200);
    });

    it('fetches only Discord attachment URLs, within the upload limit, and rebuilds only its own addresses', async () => {
      const channel = discord.createTextChannel('files');
      // No mention: the bot ignores it, but its attachment is on the CDN.
      const posted = discord.postMessage({
        channelId: channel,
        author: ana,
        content: 'a big file',
        attachments: [{ filename: 'big.bin', content: Buffer.alloc(1536 * 1024, 7) }],
      });
      const url = posted.attachments[0]?.url ?? '';
      await expect(other.fetchAttachment?.(url)).rejects.toThrow(/limit/);
      await expect(other.fetchAttachment?.('http://127.0.0.1:1/big.bin')).rejects.toThrow(
        /not a Discord attachment/,
      );
      expect(other.replyFor?.({ surface: 'slack', channel: 'C1' }, {})).toBeUndefined();
      expect(other.replyFor?.({ surface: 'discord', channelId: '../x' }, {})).toBeUndefined();
    });
  },
);
