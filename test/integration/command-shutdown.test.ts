import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BullmqJobQueue } from '../../src/jobs/bullmq-job-queue.ts';
import type { JobEvent } from '../../src/core/job.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import { LABEL } from '../../src/sandbox/labels.ts';
import { removeContainers } from '../../src/sandbox/sandbox-manager.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { quietLogger } from '../support/sandbox.ts';
import {
  containersLabelled,
  eventually,
  spawnSandbot,
  type SandbotProcess,
} from '../support/sandbot-process.ts';
import { announcedUrl, freePort } from '../support/start-process.ts';

const services = inject('services');
const ready = services.sandboxImage !== undefined && services.redisUrl !== undefined;

/** A cell that says it is running, then would run for minutes. */
const BUSY = 'import time\nprint("busy", flush=True)\ntime.sleep(300)';

describe.skipIf(!ready)('each command sent one SIGTERM while busy', () => {
  const redisUrl = services.redisUrl ?? '';
  const prefix = uniquePrefix('shutdown');
  const processes: SandbotProcess[] = [];
  let redis: Redis;
  let cwd: string;

  const env = (extra: Record<string, string | undefined> = {}) => ({
    ...process.env,
    REDIS_URL: undefined,
    REDIS_PREFIX: prefix,
    SANDBOX_MEMORY_MB: '384',
    SANDBOX_POOL_SIZE: '0',
    METRICS_PORT: '0',
    OPENAI_API_KEY: undefined,
    OPENAI_BASE_URL: undefined,
    LOG_LEVEL: 'warn',
    ...extra,
  });

  function run(args: string[], extra: Record<string, string | undefined> = {}) {
    const child = spawnSandbot(args, env(extra), { cwd });
    processes.push(child);
    return child;
  }

  beforeAll(async () => {
    redis = await connectRedis(redisUrl);
    cwd = await mkdtemp(join(tmpdir(), 'sandbot-shutdown-'));
  });

  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await removeContainers(createDockerClient(), { [LABEL.deployment]: prefix });
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('exec (its own sandbox): interrupts the cell, exits, leaves no container', async () => {
    // Without --session the cell's session is this process's own (a named one outlives it
    // on purpose). The cell names its container: Docker sets the host name to its short id.
    const exec = run(['exec', '-c', `import socket\nprint("in", socket.gethostname())\n${BUSY}`]);
    const [, host = ''] = await eventually(
      () => /in (\w+)/.exec(exec.stdout()) ?? undefined,
      'the cell running',
    );
    const its = (await containersLabelled({})).filter((id) => id.startsWith(host));
    expect(its).toHaveLength(1);
    exec.child.kill('SIGTERM');
    expect(await exec.exit()).toBe(1);
    expect((await containersLabelled({})).filter((id) => id.startsWith(host))).toEqual([]);
  });

  it('exec through Redis with no worker at all: one SIGTERM ends the wait', async () => {
    const exec = run(['exec', '-c', '1 + 1'], { REDIS_URL: redisUrl });
    // Submitted: the job waits in the queue (nobody takes it).
    await eventually(
      async () => ((await redis.llen(`${prefix}:jobs:wait`)) > 0 ? true : undefined),
      'the job waiting',
    );
    exec.child.kill('SIGTERM');
    expect(await exec.exit()).toBe(1);
  });

  it('worker: the running cell is interrupted, its caller hears it, the containers go', async () => {
    const worker = run(['worker'], { REDIS_URL: redisUrl, WORKER_ID: 'term-worker' });
    await eventually(
      async () => (await redis.exists(`${prefix}:worker:term-worker:alive`)) || undefined,
      'the worker beating',
    );
    const queue = new BullmqJobQueue({ redisUrl, prefix, logger: quietLogger });
    try {
      const handle = await queue.submit({
        jobId: randomUUID(),
        sessionId: 'term:worker',
        code: BUSY,
        submittedAt: Date.now(),
      });
      const events: JobEvent[] = [];
      for await (const event of handle.events) {
        events.push(event);
        if (event.type === 'stdout') worker.child.kill('SIGTERM');
      }
      expect(events.at(-1), JSON.stringify(events)).toMatchObject({
        type: 'done',
        status: 'interrupted',
      });
    } finally {
      await queue.close();
    }
    expect(await worker.exit()).toBe(0);
    expect(await containersLabelled({ [LABEL.worker]: 'term-worker' })).toEqual([]);
  });

  it('chat: stops the running cell and exits, leaving no container', async () => {
    const chat = run(['chat', '-m', `\`\`\`python\n${BUSY}\n\`\`\``]);
    await eventually(() => (chat.stderr().includes('[running]') ? true : undefined), 'running');
    const workerId = `chat-${chat.child.pid}`;
    await eventually(
      async () => (await containersLabelled({ [LABEL.worker]: workerId })).length || undefined,
      'its sandbox',
    );
    chat.child.kill('SIGTERM');
    expect(await chat.exit()).toBe(0);
    expect(await containersLabelled({ [LABEL.worker]: workerId })).toEqual([]);
  });

  it('start (embedded, playground): stops the running cell and exits, leaving no container', async () => {
    const workerId = `term-${randomUUID().slice(0, 6)}`;
    const start = run(['start', '--no-build'], {
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(await freePort()),
      WORKER_ID: workerId,
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
      SLACK_BOT_TOKEN: undefined,
      DISCORD_TOKEN: undefined,
    });
    const base = (await announcedUrl(start.child, () => start.stdout())).replace(/\/$/, '');
    const post = (path: string, body?: object) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'x-sandbot-request': '1', 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const response = await post('/api/threads');
    const created = (await response.json()) as { thread: { id: string } };
    expect(created, start.stderr()).toHaveProperty('thread.id');
    await post(`/api/threads/${created.thread.id}/messages`, {
      text: `\`\`\`python\n${BUSY}\n\`\`\``,
    });
    const mine = { [LABEL.worker]: `bot-${workerId}` };
    await eventually(
      async () => (await containersLabelled(mine)).length || undefined,
      'its sandbox',
    );
    start.child.kill('SIGTERM');
    expect(await start.exit(), start.stderr()).toBe(0);
    expect(await containersLabelled(mine), start.stderr()).toEqual([]);
  });
});

describe('each command against an unreachable Redis', () => {
  const unreachable = 'redis://sandbot:hunter2-secret@127.0.0.1:1';
  for (const args of [
    ['start', '--no-build'],
    ['worker'],
    ['exec', '-c', '1'],
    ['chat', '-m', 'hi'],
  ]) {
    it(`${args[0] ?? ''}: exits 69 naming the address (password masked) and the fix`, async () => {
      const command = spawnSandbot(args, {
        ...process.env,
        REDIS_URL: unreachable,
        HTTP_PORT: '0',
        METRICS_PORT: '0',
        SLACK_BOT_TOKEN: undefined,
        DISCORD_TOKEN: undefined,
      });
      command.child.stdin?.end();
      expect(await command.exit()).toBe(69);
      const said = command.stderr();
      expect(said).toContain('Redis at redis://sandbot:****@127.0.0.1:1 is unreachable');
      expect(said).toMatch(/Fix: start Redis/);
      expect(said).not.toContain('hunter2');
    });
  }
});
