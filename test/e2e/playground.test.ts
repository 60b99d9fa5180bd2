/**
 * The web playground as a user meets it: `sandbot start` spawned for real (embedded mode, the
 * scripted fake model behind OPENAI_BASE_URL), driven in Debian's Chromium through
 * playwright-core. The steps run in order on one page, as one person would use it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import { LABEL } from '../../src/sandbox/labels.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai-server.ts';
import { removeDataDir, tempDataDir } from '../support/data-dir.ts';
import { announcedUrl, exited, freePort } from '../support/start-process.ts';

const services = inject('services');
const CHROMIUM = '/usr/bin/chromium';
/** Like the other services: skipped loudly without it, a failure when CI is set. */
const browserMissing = !existsSync(CHROMIUM) && !isCi();
if (browserMissing)
  console.warn(
    `!!! ${CHROMIUM} is missing: playground browser tests SKIPPED (bash .ci/services.sh installs it)`,
  );
const BIN = join(process.cwd(), 'bin/sandbot.js');
const WORKER_ID = `e2e-playground-${process.pid}`;
/** The bot runs in the repository: its SQLite file goes to a directory of the test's own. */
const DATA_DIR = tempDataDir('playground');
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** A model turn starts a container and imports pandas: generous, never a timing assertion. */
const TURN_MS = 45_000;
/** Evaluated in the page (this file is type-checked without the DOM library). */
/**
 * The width the browser decoded for an image: above 0 once it has loaded. Read through the
 * element (the page's CSP refuses the string evaluation waitForFunction would use).
 */
function decodedWidth(image: Locator): Promise<number> {
  return image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
}

const CSV = 'month,revenue\n1,3\n2,5\n';
const PLOT_CODE = [
  'import pandas as pd',
  "df = pd.read_csv('/mnt/data/rev.csv')",
  "df.plot(x='month', y='revenue')",
  "df.assign(double=df.revenue * 2).to_csv('/mnt/data/summary.csv', index=False)",
  "print('rows:', len(df))",
].join('\n');

const unavailable = services.sandboxImage === undefined || browserMissing;

describe.skipIf(unavailable)('the web playground in a browser', () => {
  let fake: FakeOpenAI;
  let bot: ChildProcess;
  let botOutput = '';
  let url: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    const port = await freePort();
    bot = spawn(process.execPath, [BIN, 'start'], {
      env: {
        ...process.env,
        // Empty means unset: no Slack, Discord, Redis or token from the caller's environment.
        SLACK_BOT_TOKEN: '',
        SLACK_APP_TOKEN: '',
        SLACK_SIGNING_SECRET: '',
        DISCORD_TOKEN: '',
        REDIS_URL: '',
        PLAYGROUND_TOKEN: '',
        PLAYGROUND: 'on',
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(port),
        OPENAI_BASE_URL: fake.baseUrl,
        OPENAI_API_KEY: 'test',
        OPENAI_MODEL: 'fake-model',
        WORKER_ID,
        LOG_LEVEL: 'warn',
        SANDBOX_POOL_SIZE: '0',
        SANDBOX_MEMORY_MB: '512',
        SANDBOT_DATA_DIR: DATA_DIR,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    bot.stdout?.on('data', (chunk: Buffer) => (botOutput += chunk.toString()));
    bot.stderr?.on('data', (chunk: Buffer) => (botOutput += chunk.toString()));
    url = await announcedUrl(bot, () => botOutput);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(url);
    await page.locator('#app').waitFor({ state: 'visible' });
  });

  afterAll(async () => {
    await browser.close();
    if (bot.exitCode === null && bot.signalCode === null) {
      bot.kill('SIGTERM');
      await exited(bot);
    }
    await fake.close();
    removeDataDir(DATA_DIR);
  });

  it('says nothing about configuring a model when one is configured', async () => {
    expect(await page.locator('#banner').isHidden()).toBe(true);
  });

  it('takes an uploaded CSV, shows the plot the model made and a working download link', async () => {
    fake.script(
      {
        kind: 'tool',
        calls: [{ name: 'python', arguments: JSON.stringify({ code: PLOT_CODE }) }],
      },
      {
        kind: 'text',
        // Plus a quote nested thousands deep, which must neither break the page nor vanish.
        text: `**Revenue** rose from 3 to 5. <b>raw</b> [bad](javascript:alert(1)) [docs](https://example.com/docs)\n\n${'> '.repeat(5000)}deep end`,
      },
    );
    await page.click('#new-thread');
    await page.setInputFiles('#file-input', {
      name: 'rev.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(CSV),
    });
    await page.locator('#pending-uploads li', { hasText: 'rev.csv' }).waitFor();
    await page.fill('#input', 'plot revenue by month');
    await page.press('#input', 'Enter');

    const answer = page.locator('.msg.bot', { hasText: 'rose from 3 to 5' });
    await answer.waitFor({ timeout: TURN_MS });
    // Markdown is rendered; HTML and script links in model text stay text.
    expect(await answer.locator('.markdown strong').textContent()).toBe('Revenue');
    expect(await answer.locator('.markdown').textContent()).toContain('<b>raw</b>');
    expect(await answer.locator('.markdown b').count()).toBe(0);
    expect(await answer.locator('a[href^="javascript"]').count()).toBe(0);
    expect(await answer.locator('a[href="https://example.com/docs"]').count()).toBe(1);
    expect(await answer.locator('.markdown .md-plain').textContent()).toContain('deep end');

    // The code that ran is there, collapsed, highlighted as Python.
    const code = answer.locator('details.code-ran');
    expect(await code.getAttribute('open')).toBeNull();
    await code.locator('summary').click();
    expect(await code.locator('pre').textContent()).toBe(PLOT_CODE);
    expect(await code.locator('.hljs-keyword').first().textContent()).toBe('import');

    // The plot shows inline, as a real PNG.
    const image = answer.locator('.images img');
    await expect.poll(() => decodedWidth(image), { timeout: 30_000 }).toBeGreaterThan(0);
    const src = (await image.getAttribute('src')) ?? '';
    const png = await page.request.get(new URL(src, url).href);
    expect(png.headers()['content-type']).toBe('image/png');
    expect((await png.body()).subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );

    // The produced file downloads with the bytes the cell wrote.
    const link = answer.locator('.files a', { hasText: 'summary.csv' });
    const href = (await link.getAttribute('href')) ?? '';
    const download = await page.request.get(new URL(href, url).href);
    expect(download.headers()['content-disposition']).toMatch(
      /^attachment; filename="summary.csv"/,
    );
    expect((await download.body()).toString()).toBe('month,revenue,double\n1,3,6\n2,5,10\n');

    // The user's message carries its attachment, and the model was told where it is.
    const question = page.locator('.msg.user', { hasText: 'plot revenue by month' });
    expect(await question.locator('.attachments a').textContent()).toBe('rev.csv');
    const user = (fake.requests.at(0)?.body.messages as { role: string; content: string }[]).find(
      (m) => m.role === 'user',
    );
    expect(user?.content).toMatch(/^you: plot revenue by month\n\[attached: \/mnt\/data\/rev\.csv/);
  });

  it('draws a table from data, shows an SVG and a formula as images, and runs nothing a cell displays', async () => {
    const hits: string[] = [];
    const trap = createServer((request, response) => {
      hits.push(request.url ?? '');
      response.end();
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    const trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
    const code = [
      'import pandas as pd, matplotlib.pyplot as plt',
      'from IPython.display import HTML, Markdown, Math, SVG, display',
      "df = pd.DataFrame({'city': [f'c{i}' for i in range(300)], 'sales': [i * 1.5 for i in range(300)]})",
      'display(df)',
      "plt.plot(df.sales[:20]); plt.title('sales'); plt.show()",
      `display(SVG('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60"><rect width="60" height="60" fill="red"/><image href="${trapUrl}/svg.png" width="5" height="5"/></svg>'))`,
      "display(Math(r'\\frac{a}{b}'))",
      `display(HTML('<img src="${trapUrl}/html.png" onerror="window.pwned=1"><script>window.pwned=2</script>'))`,
      "display(Markdown('**bold** [click](javascript:window.pwned=3)'))",
    ].join('\n');
    fake.script(
      { kind: 'tool', calls: [{ name: 'python', arguments: JSON.stringify({ code }) }] },
      { kind: 'text', text: 'Sales by city, drawn.' },
    );
    await page.fill('#input', 'sales by city');
    await page.press('#input', 'Enter');
    const answer = page.locator('.msg.bot', { hasText: 'Sales by city, drawn.' });
    await answer.waitFor({ timeout: TURN_MS });

    // The table is built from data: a caption, the header, the first 100 rows, a CSV link.
    const table = answer.locator('figure.table-display');
    expect(await table.locator('figcaption').textContent()).toBe(
      'Table 1 · 300 rows × 2 columns · first 100 rows shown · all of it in table-1.csv',
    );
    expect(await table.locator('thead th').allTextContents()).toEqual(['city', 'sales']);
    expect(await table.locator('tbody tr').count()).toBe(100);
    expect(await table.locator('tbody tr').nth(2).locator('td').allTextContents()).toEqual([
      'c2',
      '3.0',
    ]);
    expect(await table.locator('td.num').first().textContent()).toBe('0.0');
    const csvHref = (await table.locator('figcaption a').getAttribute('href')) ?? '';
    const csv = (await (await page.request.get(new URL(csvHref, url).href)).body()).toString();
    expect(csv.trim().split('\n')).toHaveLength(301);

    // The plot, the SVG and the formula are PNG images; the .svg is a download.
    const images = answer.locator('.images img');
    await expect.poll(() => images.count()).toBe(3);
    for (const image of await images.all())
      await expect.poll(() => decodedWidth(image), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await answer.locator('.files a', { hasText: 'figure-2.svg' }).count()).toBe(1);

    // Markdown rendered without its script link; the HTML display nowhere; nothing ran or loaded.
    expect(await answer.locator('.markdown strong', { hasText: 'bold' }).count()).toBe(1);
    expect(await answer.locator('a[href^="javascript"]').count()).toBe(0);
    expect(await answer.locator('script').count()).toBe(0);
    expect(await page.evaluate('typeof window.pwned')).toBe('undefined');
    expect(hits).toEqual([]);
    trap.close();

    await table.scrollIntoViewIfNeeded();
    await mkdir('test-output', { recursive: true });
    await answer.screenshot({ path: 'test-output/playground-table.png' });
  });

  it('shows what code prints as text, never as markup', async () => {
    await page.fill('#input', 'run print("<img src=x onerror=window.pwned=1>")');
    await page.press('#input', 'Enter');
    const answer = page.locator('.msg.bot', { hasText: '<img src=x onerror=window.pwned=1>' });
    await answer.waitFor({ timeout: TURN_MS });
    const printed = await answer.locator('.markdown pre').first().textContent();
    expect(printed?.trim()).toBe('<img src=x onerror=window.pwned=1>');
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.evaluate('typeof window.pwned')).toBe('undefined');
  });

  it('streams the output of a running cell, and Stop ends the turn', async () => {
    const before = await page.locator('.msg.bot').count();
    await page.fill(
      '#input',
      "```python\nimport time\nprint('sleeping now', flush=True)\ntime.sleep(300)\n```",
    );
    await page.press('#input', 'Enter');
    await page.locator('#progress', { hasText: 'sleeping now' }).waitFor({ timeout: TURN_MS });
    await page.click('#stop');
    await page.locator('.msg.bot', { hasText: 'Stopping the running cell.' }).waitFor();
    // The interrupted turn answers with what the cell printed before it stopped.
    await page.locator('#stop').waitFor({ state: 'hidden', timeout: TURN_MS });
    expect(await page.locator('#progress').isHidden()).toBe(true);
    const answers = await page.locator('.msg.bot').allTextContents();
    expect(answers.length).toBe(before + 2);
    const stopping = await page.locator('.msg.bot').nth(before).locator('.markdown').textContent();
    expect(stopping?.trim()).toBe('Stopping the running cell.');
    expect(answers.at(-1)).toContain('sleeping now');
    expect(answers.at(-1)).toMatch(/KeyboardInterrupt|interrupt/i);
  });

  it('exports the thread as a notebook with the cells that ran', async () => {
    await page.click('#export');
    const link = page.locator('.msg.bot .files a', { hasText: 'thread.ipynb' });
    await link.waitFor({ timeout: TURN_MS });
    const href = (await link.getAttribute('href')) ?? '';
    const notebook = (await (await page.request.get(new URL(href, url).href)).json()) as {
      nbformat: number;
      cells: { cell_type: string; source: string | string[] }[];
    };
    expect(notebook.nbformat).toBe(4);
    const sources = notebook.cells.map((c) => [c.source].flat().join(''));
    expect(sources.some((s) => s.includes("pd.read_csv('/mnt/data/rev.csv')"))).toBe(true);
  });

  it('shows the thread again after a reload, and keeps a screenshot', async () => {
    await page.reload();
    const answer = page.locator('.msg.bot', { hasText: 'rose from 3 to 5' });
    await answer.waitFor();
    await expect
      .poll(() => decodedWidth(answer.locator('.images img')), { timeout: 30_000 })
      .toBeGreaterThan(0);
    const current = page.locator('#thread-list button[aria-current="true"]');
    expect(await current.textContent()).toBe('plot revenue by month');
    expect(await page.locator('.msg.user').count()).toBe(6);
    await answer.locator('.images img').scrollIntoViewIfNeeded();
    await mkdir('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/playground.png' });
  });

  it('resets the thread when asked', async () => {
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#reset');
    await page.locator('.msg.bot', { hasText: 'Fresh start' }).waitFor({ timeout: TURN_MS });
    const last = await page.locator('.msg.bot').last().locator('.markdown').textContent();
    expect(last?.trim()).toBe(
      'Fresh start: new kernel, no variables, empty /mnt/data, and I forgot this thread.',
    );
  });

  it('stops on SIGTERM and leaves no container behind', async () => {
    bot.kill('SIGTERM');
    expect(await exited(bot)).toBe(0);
    const docker = createDockerClient();
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`${LABEL.worker}=bot-${WORKER_ID}`] },
    });
    expect(left).toEqual([]);
  });
});

function isCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false';
}
