/**
 * What a durable turn needs of the playground: each message handed to the core carries its
 * item id, an order that grows through the thread, its uploads as refs the adapter reads
 * again, and a reply address; the reply rebuilt from that address answers in the same
 * thread, once. Built in process from the real core, HTTP server and adapter (no model).
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createWebAdapter } from '../../adapters/web/index.ts';
import { parseConfig } from '../../src/config/config.ts';
import type { ChatAdapter, ConversationPort } from '../../src/core/chat-adapter.ts';
import type { InboundMessage } from '../../src/core/inbound-message.ts';
import { textReply, type ReplyAddress, type ThreadReply } from '../../src/core/reply.ts';
import { HttpServer } from '../../src/http/http-server.ts';
import { buildCore, type Core } from '../../src/runtime/core.ts';
import { removeDataDir, tempDataDir } from '../support/data-dir.ts';
import { listenToPlayground, type PlaygroundEvents } from '../support/playground-events.ts';

const services = inject('services');
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const DATA_DIR = tempDataDir('playground-durable');
/** A message whose turn is lost: handed over, then its process dies before running it. */
const LOST = 'summarize these notes';

interface HandedOver {
  readonly message: InboundMessage;
  readonly thread: ThreadReply;
}

interface ThreadView {
  readonly pending: number;
  readonly progress?: string;
  readonly items: readonly { kind: string; id: string; replyTo?: string; text: string }[];
}

describe.skipIf(!services.docker)('the playground gives durable turns what they need', () => {
  let core: Core;
  let http: HttpServer;
  let adapter: ChatAdapter;
  let events: PlaygroundEvents;
  const handed: HandedOver[] = [];
  let threadId = '';
  let firstOrder = '';

  beforeAll(async () => {
    const parsed = parseConfig({
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      PLAYGROUND: 'on',
      SANDBOX_POOL_SIZE: '0',
      LOG_LEVEL: 'silent',
      SANDBOT_DATA_DIR: DATA_DIR,
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    core = await buildCore(parsed.config, logger, {
      embeddedWorkerId: `e2e-playground-durable-${process.pid}`,
    });
    http = new HttpServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      metrics: new Registry(),
      healthy: () => true,
    });
    await http.listen();
    const conversation: ConversationPort = {
      handle(message, thread) {
        handed.push({ message, thread });
        return message.text === LOST
          ? Promise.resolve()
          : core.conversation.handle(message, thread);
      },
      hasSession: (key) => core.conversation.hasSession(key),
      admits: (platform, place, userId) => core.conversation.admits(platform, place, userId),
    };
    adapter = createWebAdapter({
      config: parsed.config,
      conversation,
      deliveries: core.deliveries,
      http,
      logger,
    });
    await adapter.start();
    events = await listenToPlayground(http.url);
  });

  afterAll(async () => {
    events.close();
    await adapter.stop();
    await http.close();
    await core.close();
    removeDataDir(DATA_DIR);
  });

  it('hands over the item id, an order, upload refs and an address; the rebuilt reply answers once', async () => {
    threadId = (await call<{ thread: { id: string } }>('POST', '/api/threads')).thread.id;
    const notes = Buffer.from('buy milk\ncall ana\n');
    const { file } = await call<{ file: { id: string } }>(
      'POST',
      `/api/threads/${threadId}/uploads?name=notes.txt`,
      notes,
    );
    const { item } = await call<{ item: { id: string } }>(
      'POST',
      `/api/threads/${threadId}/messages`,
      { text: LOST, uploads: [file.id] },
    );
    const { message, thread } = handed.find((h) => h.message.messageId === item.id) ?? {};
    expect(message?.order).toMatch(/^\d+$/);
    firstOrder = message?.order ?? '';
    expect(message?.attachments.map((a) => [a.name, a.ref])).toEqual([['notes.txt', file.id]]);
    expect(await adapter.fetchAttachment?.(file.id)).toEqual(notes);
    const address: ReplyAddress = { surface: 'web', threadId, messageId: item.id };
    expect(thread?.address).toEqual(address);
    expect((await view()).pending).toBe(1);

    // Another runner takes the turn over from its address, after the first one died.
    const resumed = adapter.replyFor?.(address, { progressMessageId: item.id });
    await events.until('the resumed status', () =>
      events.heard.find(
        (e) => e.type === 'progress' && e.threadId === threadId && /Resumed/.test(e.text ?? ''),
      ),
    );
    await resumed?.reply(textReply('Answered by the resumed turn.'));
    // A runner that resumes it again (the answer stored, its record lost) adds nothing.
    await adapter.replyFor?.(address, {})?.reply(textReply('A second answer.'));

    const after = await view();
    const answers = after.items.filter((i) => i.kind === 'bot' && i.replyTo === item.id);
    expect(answers.map((a) => a.text)).toEqual(['Answered by the resumed turn.']);
    expect(after.pending).toBe(0);
    expect(after.progress).toBeUndefined();
  });

  it('orders later messages after earlier ones, and rebuilds only its own threads', async () => {
    const { item } = await call<{ item: { id: string } }>(
      'POST',
      `/api/threads/${threadId}/messages`,
      { text: 'hello', uploads: [] },
    );
    const { message } = handed.find((h) => h.message.messageId === item.id) ?? {};
    expect(BigInt(message?.order ?? '0')).toBeGreaterThan(BigInt(firstOrder));
    // The real core answers this one through the reply the adapter handed over.
    await events.until('the answer to hello', () =>
      events.heard.find(
        (e) => e.type === 'item' && e.item.kind === 'bot' && e.item.replyTo === item.id,
      ),
    );

    expect(adapter.replyFor?.({ surface: 'web', threadId: 'gone', messageId: 'x' }, {})).toBe(
      undefined,
    );
    expect(adapter.replyFor?.({ surface: 'discord', channelId: '1' }, {})).toBeUndefined();
    await expect(adapter.fetchAttachment?.('no-such-upload')).rejects.toThrow(/no playground/);
  });

  async function view(): Promise<ThreadView> {
    return (await call<{ thread: ThreadView }>('GET', `/api/threads/${threadId}`)).thread;
  }

  async function call<T>(method: string, path: string, body?: object | Buffer): Promise<T> {
    const json = body !== undefined && !Buffer.isBuffer(body);
    const response = await fetch(`${http.url}${path}`, {
      method,
      headers: {
        'x-sandbot-request': '1',
        ...(json ? { 'content-type': 'application/json' } : {}),
      },
      ...(body === undefined ? {} : { body: json ? JSON.stringify(body) : new Uint8Array(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
    return (await response.json()) as T;
  }
});
