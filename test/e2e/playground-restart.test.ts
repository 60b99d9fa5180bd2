/**
 * The embedded default keeps the playground across a restart: the real `sandbot start`
 * (no REDIS_URL) answers in a thread, stops on SIGTERM, and started again on the same
 * SANDBOT_DATA_DIR lists the thread with its messages and its answer's files, and goes on
 * answering in it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import { LABEL } from '../../src/sandbox/labels.ts';
import { removeContainers } from '../../src/sandbox/sandbox-manager.ts';
import { removeDataDir, tempDataDir } from '../support/data-dir.ts';
import {
  containersLabelled,
  eventually,
  spawnSandbot,
  type SandbotProcess,
} from '../support/sandbot-process.ts';
import { announcedUrl, freePort } from '../support/start-process.ts';

const services = inject('services');

interface Item {
  readonly kind: 'user' | 'bot';
  readonly text: string;
  readonly files?: readonly { id: string; name: string }[];
}
interface ThreadView {
  readonly id: string;
  readonly title: string;
  readonly items: readonly Item[];
}

/** A cell that prints and writes a file the answer attaches. */
const CELL = "open('/mnt/data/note.txt', 'w').write('kept')\nprint(6 * 7)";

describe.skipIf(services.sandboxImage === undefined)('the playground after a restart', () => {
  const dataDir = tempDataDir('playground-restart');
  const workerId = `e2e-restart-${randomUUID().slice(0, 6)}`;
  const started: SandbotProcess[] = [];

  async function start(): Promise<{ bot: SandbotProcess; base: string }> {
    const bot = spawnSandbot(
      ['start', '--no-build'],
      embeddedEnv(dataDir, workerId, await freePort()),
      { cwd: dataDir },
    );
    started.push(bot);
    const base = (await announcedUrl(bot.child, () => bot.stdout())).replace(/\/$/, '');
    return { bot, base };
  }

  afterAll(async () => {
    for (const bot of started) if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
    await removeContainers(createDockerClient(), { [LABEL.worker]: `bot-${workerId}` });
    removeDataDir(dataDir);
  });

  it('lists the thread with its messages and files, and answers in it again', async () => {
    const first = await start();
    const threadId = await createThread(first.base);
    await say(first.base, threadId, `run ${CELL}`);
    const before = await answered(first.base, threadId, 1);
    expect(before.items[1]?.text).toContain('42');
    first.bot.child.kill('SIGTERM');
    expect(await first.bot.exit(), first.bot.stderr()).toBe(0);

    const second = await start();
    const listed = await getJson<{ threads: { id: string; title: string }[] }>(
      second.base,
      '/api/threads',
    );
    expect(listed.threads).toContainEqual(expect.objectContaining({ id: threadId }));
    const after = await getJson<{ thread: ThreadView }>(second.base, `/api/threads/${threadId}`);
    expect(after.thread.title).toBe(before.title);
    expect(after.thread.items).toEqual(before.items);
    const note = before.items[1]?.files?.find((f) => f.name === 'note.txt');
    const download = await fetch(`${second.base}/api/files/${note?.id ?? 'none'}`);
    expect(await download.text()).toBe('kept');

    await say(second.base, threadId, 'run print(7 * 6)');
    const continued = await answered(second.base, threadId, 2);
    expect(continued.items.map((i) => i.kind)).toEqual(['user', 'bot', 'user', 'bot']);
    second.bot.child.kill('SIGTERM');
    expect(await second.bot.exit(), second.bot.stderr()).toBe(0);
  });
});

describe.skipIf(services.sandboxImage === undefined)('the playground killed mid-turn', () => {
  const dataDir = tempDataDir('playground-resume');
  const workerId = `e2e-resume-${randomUUID().slice(0, 6)}`;
  const started: SandbotProcess[] = [];

  afterAll(async () => {
    for (const bot of started) if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
    await removeContainers(createDockerClient(), { [LABEL.worker]: `bot-${workerId}` });
    removeDataDir(dataDir);
  });

  it('answers the turn once after `sandbot start` is killed with SIGKILL and started again', async () => {
    const start = async () => {
      const bot = spawnSandbot(
        ['start', '--no-build'],
        embeddedEnv(dataDir, workerId, await freePort()),
        {
          cwd: dataDir,
        },
      );
      started.push(bot);
      return { bot, base: (await announcedUrl(bot.child, () => bot.stdout())).replace(/\/$/, '') };
    };
    const first = await start();
    const threadId = await createThread(first.base);
    // Its words are built at run time, so they show only once the cell has run.
    await say(first.base, threadId, 'run import time\ntime.sleep(3)\nprint("fini" + "shed")');
    // Killed while the turn runs: its cell's sandbox is up, the answer not yet posted.
    await eventually(
      async () =>
        (await containersLabelled({ [LABEL.worker]: `bot-${workerId}` })).length || undefined,
      'the cell running',
    );
    const { thread } = await getJson<{ thread: ThreadView }>(
      first.base,
      `/api/threads/${threadId}`,
    );
    expect(thread.items.map((i) => i.kind)).toEqual(['user']);
    first.bot.child.kill('SIGKILL');
    await first.bot.exit();

    const second = await start();
    const after = await answered(second.base, threadId, 1);
    expect(after.items.map((i) => i.kind)).toEqual(['user', 'bot']);
    expect(after.items[1]?.text).toContain('finished');
    second.bot.child.kill('SIGTERM');
    expect(await second.bot.exit(), second.bot.stderr()).toBe(0);
  });
});

/** `sandbot start` as a newcomer runs it: embedded, the playground only, no model. */
function embeddedEnv(
  dataDir: string,
  workerId: string,
  port: number,
): Record<string, string | undefined> {
  return {
    ...process.env,
    REDIS_URL: '',
    SLACK_BOT_TOKEN: '',
    SLACK_APP_TOKEN: '',
    SLACK_SIGNING_SECRET: '',
    DISCORD_TOKEN: '',
    PLAYGROUND_TOKEN: '',
    OPENAI_API_KEY: '',
    OPENAI_BASE_URL: '',
    PLAYGROUND: 'on',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    WORKER_ID: workerId,
    SANDBOX_POOL_SIZE: '0',
    SANDBOX_MEMORY_MB: '384',
    LOG_LEVEL: 'warn',
    SANDBOT_DATA_DIR: dataDir,
  };
}

function post(base: string, path: string, body?: object): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'x-sandbot-request': '1', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function getJson<T>(base: string, path: string): Promise<T> {
  const response = await fetch(`${base}${path}`, { headers: { 'x-sandbot-request': '1' } });
  return (await response.json()) as T;
}

async function createThread(base: string): Promise<string> {
  const response = await post(base, '/api/threads');
  return ((await response.json()) as { thread: { id: string } }).thread.id;
}

async function say(base: string, threadId: string, text: string): Promise<void> {
  const response = await post(base, `/api/threads/${threadId}/messages`, { text });
  expect(response.status).toBe(202);
}

/** The thread once it holds `count` answers (a guard against hanging, not a timing). */
function answered(base: string, threadId: string, count: number): Promise<ThreadView> {
  return eventually(async () => {
    const { thread } = await getJson<{ thread: ThreadView }>(base, `/api/threads/${threadId}`);
    return thread.items.filter((i) => i.kind === 'bot').length >= count ? thread : undefined;
  }, `${count} answer(s) in the playground thread`);
}
