/**
 * Streamed answers in the playground: the scripted model releases its answer in pieces the
 * test controls, and the page's event stream carries the thread's status with the answer so
 * far before the answer item arrives, once, exactly as written. Built in process from the
 * real core, HTTP server and web adapter, against the fake model.
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createWebAdapter } from '../../adapters/web/index.ts';
import { parseConfig } from '../../src/config/config.ts';
import type { ChatAdapter } from '../../src/core/chat-adapter.ts';
import { HttpServer } from '../../src/http/http-server.ts';
import { buildCore, type Core } from '../../src/runtime/core.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai-server.ts';
import { removeDataDir, tempDataDir } from '../support/data-dir.ts';
import { listenToPlayground, type PlaygroundEvents } from '../support/playground-events.ts';

const services = inject('services');
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const DATA_DIR = tempDataDir('playground-streamed');
const PIECES = ['Streaming part one', ', then part two', ', and the end.'];
const ANSWER = PIECES.join('');

describe.skipIf(!services.docker)('the playground streams an answer into its status', () => {
  let openai: FakeOpenAI;
  let core: Core;
  let http: HttpServer;
  let adapter: ChatAdapter;
  let events: PlaygroundEvents;

  beforeAll(async () => {
    openai = await startFakeOpenAI();
    const parsed = parseConfig({
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      PLAYGROUND: 'on',
      OPENAI_BASE_URL: openai.baseUrl,
      OPENAI_API_KEY: 'test',
      OPENAI_MODEL: 'fake-model',
      SANDBOX_POOL_SIZE: '0',
      LOG_LEVEL: 'silent',
      SANDBOT_DATA_DIR: DATA_DIR,
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    core = await buildCore(parsed.config, logger, {
      embeddedWorkerId: `e2e-playground-streamed-${process.pid}`,
    });
    http = new HttpServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      metrics: new Registry(),
      healthy: () => true,
    });
    await http.listen();
    adapter = createWebAdapter({
      config: parsed.config,
      conversation: core.conversation,
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
    await openai.close();
    removeDataDir(DATA_DIR);
  });

  it('sends the answer so far as progress, then the answer item once', async () => {
    const releases: (() => void)[] = [];
    const gates = PIECES.map((_, i) =>
      i === 0 ? undefined : new Promise<void>((resolve) => (releases[i] = resolve)),
    );
    openai.script({ kind: 'stream', chunks: PIECES, gates });
    const threadId = (await call<{ thread: { id: string } }>('POST', '/api/threads')).thread.id;
    await call('POST', `/api/threads/${threadId}/messages`, { text: 'tell me a story' });

    const progressShowing = (pattern: RegExp) =>
      events.until(`progress showing ${String(pattern)}`, () =>
        events.heard.find(
          (e) =>
            e.type === 'progress' &&
            e.threadId === threadId &&
            e.text !== null &&
            pattern.test(e.text),
        ),
      );
    await progressShowing(/Writing the answer[\s\S]*Streaming part one$/);
    releases[1]?.();
    await progressShowing(/Streaming part one, then part two$/);
    releases[2]?.();

    const answered = await events.until('the answer item', () =>
      events.heard.find(
        (e) => e.type === 'item' && e.threadId === threadId && e.item.kind === 'bot',
      ),
    );
    expect(answered.type === 'item' && answered.item.text).toBe(ANSWER);
    const mine = events.heard.filter(
      (e) => (e.type === 'item' || e.type === 'progress') && e.threadId === threadId,
    );
    const answerAt = mine.indexOf(answered);
    const partialAt = mine.findIndex(
      (e) => e.type === 'progress' && e.text !== null && /part two$/.test(e.text),
    );
    expect(partialAt).toBeGreaterThanOrEqual(0);
    expect(partialAt).toBeLessThan(answerAt);
    // The status is cleared with the answer, and there is one answer.
    await events.until('the status cleared', () =>
      events.heard.find((e) => e.type === 'progress' && e.threadId === threadId && e.text === null),
    );
    expect(
      events.heard.filter(
        (e) => e.type === 'item' && e.threadId === threadId && e.item.kind === 'bot',
      ),
    ).toHaveLength(1);
  });

  async function call<T>(method: string, path: string, body?: object): Promise<T> {
    const response = await fetch(`${http.url}${path}`, {
      method,
      headers: {
        'x-sandbot-request': '1',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
    return (await response.json()) as T;
  }
});
