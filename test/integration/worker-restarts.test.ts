import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BullmqJobQueue } from '../../src/jobs/bullmq-job-queue.ts';
import type { JobEvent, JobHandle } from '../../src/core/job.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import { LABEL } from '../../src/sandbox/labels.ts';
import { removeContainers } from '../../src/sandbox/sandbox-manager.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { privateRedis } from '../support/redis-server.ts';
import { quietLogger } from '../support/sandbox.ts';
import {
  containersLabelled,
  eventually,
  guard,
  spawnSandbot,
  type SandbotProcess,
} from '../support/sandbot-process.ts';

const services = inject('services');
const ready = services.sandboxImage !== undefined && services.redisUrl !== undefined;

/** The id a worker gets when WORKER_ID is unset, as the schema derives it. */
const DEFAULT_WORKER_ID = hostname()
  .replace(/[^A-Za-z0-9_.-]/g, '-')
  .slice(0, 64);

async function collect(handle: JobHandle, onEvent?: (e: JobEvent) => void): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  for await (const event of handle.events) {
    events.push(event);
    onEvent?.(event);
  }
  return events;
}

describe.skipIf(!ready)('a worker restarted under its own name, and Redis that goes away', () => {
  const redisUrl = services.redisUrl ?? '';
  const prefixes: string[] = [];
  const processes: SandbotProcess[] = [];
  let redis: Redis;

  const env = (prefix: string, extra: Record<string, string> = {}) => {
    // The defaults an operator gets: no WORKER_ID (so the host name), METRICS_PORT off only
    // because several workers share this machine.
    return {
      ...process.env,
      WORKER_ID: undefined,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      SANDBOX_MEMORY_MB: '384',
      SANDBOX_POOL_SIZE: '1',
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      ...extra,
    };
  };

  async function startWorker(prefix: string, extra: Record<string, string> = {}) {
    const worker = spawnSandbot(['worker'], env(prefix, extra));
    processes.push(worker);
    const id = extra.WORKER_ID ?? DEFAULT_WORKER_ID;
    await eventually(async () => {
      if (worker.child.exitCode !== null) throw new Error(`worker exited:\n${worker.stderr()}`);
      return (await redis.get(`${prefix}:worker:${id}:alive`)) ?? undefined;
    }, `worker ${id} beating`);
    return worker;
  }

  beforeAll(async () => {
    redis = await connectRedis(redisUrl);
  });

  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    const docker = createDockerClient();
    for (const prefix of prefixes) {
      await removeContainers(docker, { [LABEL.deployment]: prefix });
      await deleteKeys(redis, prefix);
    }
    redis.disconnect();
  });

  it(
    'ends the cell a SIGKILLed worker was running with one `lost` when it restarts under the same id, and runs the next cell with the files restored',
    { timeout: 180_000 },
    async () => {
      const prefix = uniquePrefix('same-id-restart');
      prefixes.push(prefix);
      const queue = new BullmqJobQueue({ redisUrl, prefix, logger: quietLogger });
      try {
        const first = await startWorker(prefix);
        const session = `restart-${randomUUID().slice(0, 8)}`;
        const submit = (code: string) =>
          queue.submit({ jobId: randomUUID(), sessionId: session, code, submittedAt: Date.now() });
        const setup = await collect(
          await submit('open("/mnt/data/keep.txt", "w").write("kept")\nkeep = 1'),
        );
        expect(setup.at(-1)).toMatchObject({ type: 'done', status: 'ok' });
        const before = await containersLabelled({
          [LABEL.deployment]: prefix,
          [LABEL.worker]: DEFAULT_WORKER_ID,
        });
        expect(before.length).toBeGreaterThan(0);

        const long = await submit('import time\ntime.sleep(120)');
        let restarted: Promise<SandbotProcess> | undefined;
        const events = collect(long, (event) => {
          if (event.type !== 'started') return;
          first.child.kill('SIGKILL');
          restarted = first.exit().then(() => startWorker(prefix));
        });
        // Guard against hanging (the bug: callers waited for ever); no timing is asserted.
        const seen = await guard(events, 90_000, () => 'the caller never heard the cell end');
        const done = seen.filter((e) => e.type === 'done');
        expect(done).toEqual([
          expect.objectContaining({ type: 'done', status: 'lost', kernelRestarted: true }),
        ]);
        await restarted;

        // The killed cell was not run again by anyone.
        const stream = await redis.xrange(`${prefix}:job:${long.jobId}:events`, '-', '+');
        const kinds = stream.map(([, fields]) => JSON.parse(fields[1] ?? '{}') as JobEvent);
        expect(kinds.filter((e) => e.type === 'started')).toHaveLength(1);
        expect(kinds.filter((e) => e.type === 'done')).toHaveLength(1);

        // Then the restarted worker removes the previous life's containers.
        const left = await eventually(async () => {
          const now = await containersLabelled({ [LABEL.deployment]: prefix });
          const old = now.filter((id) => before.includes(id));
          return old.length === 0 ? old : undefined;
        }, 'the old containers removed');
        expect(left).toEqual([]);

        // The next cell runs on the restarted worker, with the session's files restored.
        const next = await collect(await submit('open("/mnt/data/keep.txt").read()'));
        expect(next[0]).toMatchObject({ type: 'started', workerId: DEFAULT_WORKER_ID });
        expect(next.at(-1)).toMatchObject({ type: 'done', status: 'ok', kernelRestarted: true });
        const shown = next.find((e) => e.type === 'display');
        expect(shown?.type === 'display' ? shown.data['text/plain'] : '').toBe("'kept'");
      } finally {
        await queue.close();
      }
    },
  );

  it('refuses a second live worker with the same id (exit 78, saying why)', async () => {
    const prefix = uniquePrefix('twin');
    prefixes.push(prefix);
    const first = await startWorker(prefix, { WORKER_ID: 'twin' });
    const twin = spawnSandbot(['worker'], env(prefix, { WORKER_ID: 'twin' }));
    processes.push(twin);
    expect(await twin.exit()).toBe(78);
    expect(twin.stderr()).toMatch(/another worker is running as WORKER_ID=twin/);
    // The first one is untouched and still beats.
    expect(first.child.exitCode).toBeNull();
    expect(await redis.exists(`${prefix}:worker:twin:alive`)).toBe(1);
  });

  it(
    'keeps a worker running while its Redis restarts: /healthz says so, and the next job runs',
    { timeout: 120_000 },
    async () => {
      const server = await privateRedis([
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--maxmemory-policy',
        'noeviction',
      ]);
      const prefix = uniquePrefix('redis-restart');
      const port = String(20_000 + Math.floor(Math.random() * 1000));
      const queue = new BullmqJobQueue({ redisUrl: server.url, prefix, logger: quietLogger });
      try {
        await server.start();
        const private_ = await connectRedis(server.url);
        const worker = spawnSandbot(
          ['worker'],
          env(prefix, {
            REDIS_URL: server.url,
            WORKER_ID: 'steady',
            METRICS_PORT: port,
            LOG_LEVEL: 'info',
          }),
        );
        processes.push(worker);
        const health = async () =>
          (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status;
        await eventually(async () => ((await health()) === 200 ? true : undefined), 'healthy');
        const run = async (code: string) =>
          collect(
            await queue.submit({
              jobId: randomUUID(),
              sessionId: 'steady:s',
              code,
              submittedAt: Date.now(),
            }),
          );
        const first = await run('1 + 1');
        expect(first.at(-1), JSON.stringify(first)).toMatchObject({ status: 'ok' });
        private_.disconnect();

        await server.kill();
        await eventually(async () => ((await health()) === 503 ? true : undefined), 'a 503');
        await server.start();
        await eventually(async () => ((await health()) === 200 ? true : undefined), 'a 200');
        const after = await run('2 + 2');
        expect(after.at(-1)).toMatchObject({ type: 'done', status: 'ok' });
        expect(worker.child.exitCode).toBeNull();
        // Logged once when Redis went away, not once per reconnect attempt.
        const lines = worker.stderr().split('\n');
        expect(lines.filter((l) => l.includes('Redis is unreachable')).length).toBe(1);
        expect(lines.some((l) => l.includes('Redis is reachable again'))).toBe(true);
        worker.child.kill('SIGTERM');
        expect(await worker.exit()).toBe(0);
      } finally {
        await queue.close();
        await removeContainers(createDockerClient(), { [LABEL.deployment]: prefix });
        await server.dispose();
      }
    },
  );

  it('ends a job no worker will take with a clear failure, and takes it out of the queue', async () => {
    const prefix = uniquePrefix('no-worker');
    prefixes.push(prefix);
    // The default is 60 s without any worker; the variation here only shortens the wait.
    const queue = new BullmqJobQueue({
      redisUrl,
      prefix,
      logger: quietLogger,
      noWorkerForMs: 1000,
    });
    try {
      const handle = await queue.submit({
        jobId: randomUUID(),
        sessionId: 'nobody:s',
        code: 'print("ran")',
        submittedAt: Date.now(),
      });
      const events = await guard(collect(handle), 60_000, () => 'the caller waited for ever');
      expect(events).toEqual([
        expect.objectContaining({
          type: 'done',
          status: 'failed',
          message: expect.stringMatching(/no sandbot worker has been running/) as unknown,
        }),
      ]);
      // A worker that starts afterwards does not run it behind its caller's back.
      expect(await redis.llen(`${prefix}:jobs:wait`)).toBe(0);
    } finally {
      await queue.close();
    }
  });
});
