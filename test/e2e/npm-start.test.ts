/**
 * `npm start` from a fresh checkout reaches a working playground: the real command, not an
 * import of its internals.
 *
 * How: a fresh checkout is what `git clone` gives, but a clone would miss uncommitted work, so
 * the test copies the files git would commit (`git ls-files -co --exclude-standard`: tracked
 * plus untracked-but-not-ignored, so no .env, no node_modules) into a temporary directory and
 * symlinks node_modules from this checkout (what `npm ci` would install). There it runs
 * `npm start` in its own process group with a clean environment (PATH, HOME, a free
 * HTTP_PORT, a unique WORKER_ID, no tokens, no model, no REDIS_URL; a small sandbox so the
 * machine stays responsive), waits for the `Playground:` line, loads the page, runs code
 * through the playground's API, and chats to hear how to configure a model. Then it sends
 * SIGTERM to the whole group (npm, its shell, node), as a terminal's Ctrl-C reaches the whole
 * foreground group, and checks that every process ended and no sandbox container is left.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import { LABEL } from '../../src/sandbox/labels.ts';
import { listenToPlayground, type PlaygroundEvents } from '../support/playground-events.ts';
import { eventually } from '../support/sandbot-process.ts';
import { announcedUrl, freePort } from '../support/start-process.ts';

const services = inject('services');
const REPO = process.cwd();
const WORKER_ID = `e2e-npm-start-${process.pid}`;
const run = promisify(execFile);

describe.skipIf(services.sandboxImage === undefined)('npm start in a fresh checkout', () => {
  let checkout: string;
  let npm: ChildProcess;
  let output = '';
  let url: string;

  beforeAll(async () => {
    checkout = await mkdtemp(join(tmpdir(), 'sandbot-checkout-'));
    await copyCheckout(REPO, checkout);
    const port = await freePort();
    npm = spawn('npm', ['start'], {
      cwd: checkout,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? checkout,
        HTTP_PORT: String(port),
        WORKER_ID,
        SANDBOX_POOL_SIZE: '0',
        SANDBOX_MEMORY_MB: '256',
        ...(process.env.DOCKER_HOST === undefined ? {} : { DOCKER_HOST: process.env.DOCKER_HOST }),
      },
    });
    npm.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    url = await announcedUrl(npm, () => output);
  });

  afterAll(async () => {
    if (npm.pid !== undefined && groupAlive(npm.pid)) process.kill(-npm.pid, 'SIGKILL');
    const docker = createDockerClient();
    const left = await docker.listContainers({ all: true, filters: { label: [workerLabel()] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    await rm(checkout, { recursive: true, force: true });
  });

  it('serves the playground page', async () => {
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<title>sandbot playground</title>');
  });

  it('runs direct code without a model, and says how to configure one', async () => {
    const info = (await (await fetch(`${url}api/info`)).json()) as {
      model: { configured: boolean };
    };
    expect(info.model.configured).toBe(false);
    const events = await listenToPlayground(url);
    const thread = await api<{ thread: { id: string } }>('POST', 'api/threads');
    const id = thread.thread.id;
    try {
      await api('POST', `api/threads/${id}/messages`, { text: 'run print(6 * 7)', uploads: [] });
      expect((await answers(events, id, 1))[0]).toBe('```\n42\n```');
      await api('POST', `api/threads/${id}/messages`, { text: 'plot my data', uploads: [] });
      expect((await answers(events, id, 2))[1]).toMatch(/OPENAI_API_KEY.*OPENAI_BASE_URL/s);
    } finally {
      events.close();
    }
    // The same server tells a monitor it is healthy and what it has done.
    const health = await fetch(`${url}healthz`);
    expect(health.status).toBe(200);
    const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(health.headers.get('x-sandbot-version')).toBe(version);
    const metrics = await (await fetch(`${url}metrics`)).text();
    expect(metrics).toContain(
      'sandbot_messages_total{platform="web",kind="code",outcome="answered"} 1',
    );
    expect(metrics).toContain(
      'sandbot_messages_total{platform="web",kind="chat",outcome="answered"} 1',
    );
  });

  it('ends every process of the group on SIGTERM and leaves no container', async () => {
    const pid = npm.pid ?? 0;
    // Every process of the group writes to npm's stdout and stderr, so the pipes close once
    // the last of them has ended (one left running would keep them open and time out here).
    const closed = new Promise((resolve) => npm.once('close', resolve));
    process.kill(-pid, 'SIGTERM');
    await closed;
    // A process closes its descriptors on the way out a moment before /proc shows it ended.
    const running = await eventually(
      () => (runningInGroup(pid).length === 0 ? [] : undefined),
      'every process of the group ended',
      10_000,
    );
    expect(running).toEqual([]);
    expect(output).not.toMatch(/npm error|ERR!/);
    const docker = createDockerClient();
    const left = await docker.listContainers({ all: true, filters: { label: [workerLabel()] } });
    expect(left).toEqual([]);
  });

  async function api<T>(method: string, path: string, body?: object): Promise<T> {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { 'x-sandbot-request': '1', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(response.ok).toBe(true);
    return (await response.json()) as T;
  }

  /** The bot's answers as stored in the thread, once the event stream (what the page hears)
   *  has announced `count` of them. */
  async function answers(
    events: PlaygroundEvents,
    threadId: string,
    count: number,
  ): Promise<string[]> {
    await events.until(
      `${count} answers in thread ${threadId}`,
      () =>
        events.heard.filter(
          (e) => e.type === 'item' && e.threadId === threadId && e.item.kind === 'bot',
        ).length >= count,
    );
    const { thread } = await api<{ thread: { items: { kind: string; text: string }[] } }>(
      'GET',
      `api/threads/${threadId}`,
    );
    return thread.items.filter((i) => i.kind === 'bot').map((i) => i.text);
  }
});

function workerLabel(): string {
  return `${LABEL.worker}=bot-${WORKER_ID}`;
}

/** The files a clone of the working tree would have, plus node_modules as `npm ci` leaves it. */
async function copyCheckout(from: string, to: string): Promise<void> {
  const { stdout } = await run('git', ['ls-files', '-z', '-co', '--exclude-standard'], {
    cwd: from,
    maxBuffer: 16 * 1024 * 1024,
  });
  const files = stdout.split('\0').filter((f) => f !== '' && existsSync(join(from, f)));
  for (const file of files) {
    await mkdir(dirname(join(to, file)), { recursive: true });
    await cp(join(from, file), join(to, file));
  }
  await symlink(join(from, 'node_modules'), join(to, 'node_modules'), 'dir');
}

/** Processes of the group that have not ended (a zombie has ended; only its parent has not
 *  collected its status yet). Read from /proc: field 3 of stat is the state, field 5 the group. */
function runningInGroup(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        return false; // gone while we looked
      }
      // The command name in parentheses may hold spaces; the fields after it do not.
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(group) === pgid && state !== 'Z' && state !== 'X';
    })
    .map(Number);
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
