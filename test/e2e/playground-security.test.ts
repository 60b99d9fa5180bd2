/**
 * Who may use the playground: the token when one is set (API, cookie from the login form),
 * loopback host names when none is, no cross-site state changes, and files that can never
 * run script on the page's origin. Built in process from the real core, HTTP server and
 * adapter (no model configured, so no container is needed).
 */
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { chromium } from 'playwright-core';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createWebAdapter } from '../../adapters/web/index.ts';
import type { Config } from '../../src/core/config.ts';
import { parseConfig } from '../../src/config/config.ts';
import type { ChatAdapter } from '../../src/core/chat-adapter.ts';
import { HttpServer } from '../../src/http/http-server.ts';
import { buildCore, type Core } from '../../src/runtime/core.ts';
import { removeDataDir, tempDataDir } from '../support/data-dir.ts';
import { listenToPlayground } from '../support/playground-events.ts';

const services = inject('services');
const CHROMIUM = '/usr/bin/chromium';
const ci = process.env.CI;
/** Like the other services: skipped loudly without it, a failure when CI is set. */
const browserMissing = !existsSync(CHROMIUM) && (ci === undefined || ci === '' || ci === 'false');
if (browserMissing)
  console.warn(
    `!!! ${CHROMIUM} is missing: the login form test is SKIPPED (bash .ci/services.sh installs it)`,
  );
const TOKEN = 'correct-horse-battery-staple';
const itInBrowser = it.skipIf(browserMissing);
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
/** The core and the playground keep their SQLite file here, not in the repository. */
const DATA_DIR = tempDataDir('playground-security');

interface Playground {
  readonly url: string;
  close(): Promise<void>;
}

describe.skipIf(!services.docker)('the playground keeps strangers out', () => {
  let core: Core;
  let guarded: Playground;
  let open: Playground;

  beforeAll(async () => {
    const config = configWith({ PLAYGROUND_TOKEN: TOKEN });
    core = await buildCore(config, logger, {
      embeddedWorkerId: `e2e-playground-security-${process.pid}`,
    });
    guarded = await servePlayground(core, config);
    open = await servePlayground(core, configWith({}));
  });

  afterAll(async () => {
    await guarded.close();
    await open.close();
    await core.close();
    removeDataDir(DATA_DIR);
  });

  it('refuses every API route without the token, and takes it as header or bearer', async () => {
    const info = (await (await fetch(`${guarded.url}/api/info`)).json()) as object;
    expect(info).toEqual({ authRequired: true, authenticated: false });
    for (const path of ['/api/threads', '/api/events', '/api/files/whatever']) {
      expect((await fetch(`${guarded.url}${path}`)).status).toBe(401);
    }
    const wrong = await fetch(`${guarded.url}/api/threads`, {
      headers: { authorization: `Bearer ${TOKEN}x` },
    });
    expect(wrong.status).toBe(401);
    for (const headers of [{ authorization: `Bearer ${TOKEN}` }, { 'x-sandbot-token': TOKEN }]) {
      expect((await fetch(`${guarded.url}/api/threads`, { headers })).status).toBe(200);
    }
    const login = await post(guarded.url, '/api/login', { token: 'not-the-token-at-all' }, {});
    expect(login.status).toBe(401);
  });

  it('refuses state changes that do not come from the page itself', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const noHeader = await fetch(`${guarded.url}/api/threads`, { method: 'POST', headers: auth });
    expect(noHeader.status).toBe(403);
    const crossSite = await post(guarded.url, '/api/threads', undefined, {
      ...auth,
      origin: 'https://evil.example',
    });
    expect(crossSite.status).toBe(403);
    const sameSite = await post(guarded.url, '/api/threads', undefined, {
      ...auth,
      origin: guarded.url,
    });
    expect(sameSite.status).toBe(201);
  });

  it('without a token, answers loopback host names only (no DNS rebinding)', async () => {
    const port = new URL(open.url).port;
    expect(await statusWithHost(open.url, `evil.example:${port}`)).toBe(403);
    expect(await statusWithHost(open.url, `localhost:${port}`)).toBe(200);
    expect(await statusWithHost(open.url, `127.0.0.1:${port}`)).toBe(200);
  });

  it('serves uploaded and produced files as downloads that cannot run script', async () => {
    const thread = await createThread(open.url);
    for (const name of ['page.html', 'drawing.svg']) {
      const { file } = (await (
        await post(
          open.url,
          `/api/threads/${thread}/uploads?name=${name}`,
          Buffer.from('<script>alert(1)</script>'),
          {},
        )
      ).json()) as { file: { id: string } };
      const response = await fetch(`${open.url}/api/files/${file.id}`);
      expect(response.headers.get('content-disposition')).toMatch(/^attachment;/);
      expect(response.headers.get('content-security-policy')).toMatch(/^sandbox/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('passes an oversized upload to the core, which refuses it in words', async () => {
    const thread = await createThread(open.url);
    const big = Buffer.alloc(1024 * 1024 + 1, 'a');
    const upload = await post(open.url, `/api/threads/${thread}/uploads?name=big.csv`, big, {});
    const { file } = (await upload.json()) as { file: { id: string; sizeBytes: number } };
    expect(file.sizeBytes).toBe(big.length);
    const events = await listenToPlayground(open.url);
    try {
      await post(open.url, `/api/threads/${thread}/messages`, { text: '', uploads: [file.id] }, {});
      await events.until('the answer', () =>
        events.heard.some(
          (e) => e.type === 'item' && e.threadId === thread && e.item.kind === 'bot',
        ),
      );
    } finally {
      events.close();
    }
    const answer = await botAnswer(open.url, thread);
    expect(answer?.notices.join('\n')).toMatch(/big\.csv is .* over the 1\.0 MB limit/);
  });

  itInBrowser('logs in through the form and says how to configure a model', async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(guarded.url);
      await page.locator('#login').waitFor({ state: 'visible' });
      await page.fill('#token', 'wrong-token-of-enough-length');
      await page.press('#token', 'Enter');
      await page.locator('#login-error', { hasText: 'wrong token' }).waitFor();
      await page.fill('#token', TOKEN);
      await page.press('#token', 'Enter');
      await page.locator('#app').waitFor({ state: 'visible' });
      const banner = await page.locator('#banner').textContent();
      expect(banner).toContain('No model is configured');
      expect(banner).toContain('OPENAI_API_KEY');
      expect(banner).toContain('OPENAI_BASE_URL');
      const [cookie] = await context.cookies();
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    } finally {
      await browser.close();
    }
  });
});

function configWith(settings: Record<string, string>): Config {
  const parsed = parseConfig({
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    PLAYGROUND: 'on',
    SANDBOX_POOL_SIZE: '0',
    MAX_ATTACHMENT_MB: '1',
    LOG_LEVEL: 'silent',
    SANDBOT_DATA_DIR: DATA_DIR,
    ...settings,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.config;
}

async function servePlayground(core: Core, config: Config): Promise<Playground> {
  const http = new HttpServer({
    host: config.http.host,
    port: config.http.port,
    logger,
    metrics: new Registry(),
    healthy: () => true,
  });
  await http.listen();
  const adapter: ChatAdapter = createWebAdapter({
    config,
    conversation: core.conversation,
    deliveries: core.deliveries,
    http,
    logger,
  });
  await adapter.start();
  return {
    url: http.url,
    async close() {
      await adapter.stop();
      await http.close();
    },
  };
}

function post(
  base: string,
  path: string,
  body: object | Buffer | undefined,
  headers: Record<string, string>,
): Promise<Response> {
  const json = body !== undefined && !Buffer.isBuffer(body);
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      'x-sandbot-request': '1',
      ...(json ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body === undefined ? {} : { body: json ? JSON.stringify(body) : new Uint8Array(body) }),
  });
}

async function createThread(base: string): Promise<string> {
  const response = await post(base, '/api/threads', undefined, {});
  return ((await response.json()) as { thread: { id: string } }).thread.id;
}

/** The core's answer as stored in the thread. */
async function botAnswer(base: string, thread: string): Promise<{ notices: string[] } | undefined> {
  const response = await fetch(`${base}/api/threads/${thread}`);
  const { thread: view } = (await response.json()) as {
    thread: { items: { kind: string; notices: string[] }[] };
  };
  return view.items.find((item) => item.kind === 'bot');
}

/** fetch cannot set Host; node:http can, as a browser tricked by DNS rebinding would. */
function statusWithHost(base: string, host: string): Promise<number> {
  const url = new URL('/api/threads', base);
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end();
  });
}
