import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BullmqJobQueue } from '../../src/jobs/bullmq-job-queue.ts';
import type { JobEvent } from '../../src/core/job.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { createDockerClient, type Docker } from '../../src/sandbox/docker-client.ts';
import { LABEL } from '../../src/sandbox/labels.ts';
import { removeContainers } from '../../src/sandbox/sandbox-manager.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { privateRedis } from '../support/redis-server.ts';
import { quietLogger } from '../support/sandbox.ts';

const services = inject('services');
const execFileAsync = promisify(execFile);
const BIN = join(process.cwd(), 'bin/sandbot.js');

describe.skipIf(services.sandboxImage === undefined || services.redisUrl === undefined)(
  'sandbot worker as a real process behind the queue',
  () => {
    const redisUrl = services.redisUrl ?? '';
    const prefix = uniquePrefix('worker-process');
    const workers = new Map<string, ChildProcess>();
    let redis: Redis;

    const env = (extra: Record<string, string> = {}) => ({
      ...process.env,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      SANDBOX_MEMORY_MB: '384',
      SANDBOX_POOL_SIZE: '1',
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      ...extra,
    });

    async function startWorker(
      workerId: string,
      extra: Record<string, string> = {},
    ): Promise<ChildProcess> {
      // At info level the worker logs 'worker ready' (on stderr) once it consumes jobs.
      const child = spawn(process.execPath, [BIN, 'worker'], {
        env: env({ WORKER_ID: workerId, LOG_LEVEL: 'info', ...extra }),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      workers.set(workerId, child);
      let log = '';
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (chunk: Buffer) => {
          log += chunk.toString();
          if (log.includes('"msg":"worker ready"')) resolve();
        });
        child.once('exit', (code) =>
          reject(new Error(`worker ${workerId} exited ${code} before it was ready:\n${log}`)),
        );
      });
      expect(await redis.exists(`${prefix}:worker:${workerId}:alive`)).toBe(1);
      return child;
    }

    async function stopWorker(workerId: string): Promise<void> {
      const child = workers.get(workerId);
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }

    async function exec(
      args: string[],
      cwd: string,
    ): Promise<{ results: string[]; status: string; files: { path: string }[] }> {
      const { stdout } = await execFileAsync(process.execPath, [BIN, 'exec', '--json', ...args], {
        cwd,
        env: env(),
      }).catch((error: unknown) => error as { stdout: string });
      return JSON.parse(stdout) as { results: string[]; status: string; files: { path: string }[] };
    }

    async function collect(events: AsyncIterable<JobEvent>, onEvent?: (e: JobEvent) => void) {
      const all: JobEvent[] = [];
      for await (const event of events) {
        all.push(event);
        onEvent?.(event);
      }
      return all;
    }

    beforeAll(async () => {
      redis = await connectRedis(redisUrl);
    });

    afterAll(async () => {
      for (const child of workers.values()) if (child.exitCode === null) child.kill('SIGKILL');
      const docker = createDockerClient();
      await removeContainers(docker, { [LABEL.deployment]: prefix });
      await deleteKeys(redis, prefix);
      redis.disconnect();
    });

    it('runs `sandbot exec` through Redis on a separate worker, keeping the session', async () => {
      const metricsPort = 19_000 + Math.floor(Math.random() * 1000);
      await startWorker('alpha', { METRICS_PORT: String(metricsPort) });
      const dir = await mkdtemp(join(tmpdir(), 'sandbot-queued-'));
      await writeFile(join(dir, 'nums.csv'), 'n\n1\n2\n3\n');
      const session = `s-${randomUUID().slice(0, 8)}`;
      const first = await exec(
        [
          '--session',
          session,
          '--attach',
          join(dir, 'nums.csv'),
          '-c',
          'import pandas as pd\ndf = pd.read_csv("/mnt/data/nums.csv")',
        ],
        dir,
      );
      expect(first.status).toBe('ok');
      const second = await exec(['--session', session, '-c', 'df.n.sum().item()\n'], dir);
      expect(second.results).toEqual(['6']);
      const third = await exec(
        [
          '--session',
          session,
          '--out',
          'out',
          '-c',
          'df.to_csv("/mnt/data/copy.csv", index=False)',
        ],
        dir,
      );
      expect(third.files.map((f) => f.path)).toEqual([join(dir, 'out', 'copy.csv')]);
      expect(await readFile(join(dir, 'out', 'copy.csv'), 'utf8')).toBe('n\n1\n2\n3\n');

      // The worker reports what it did on /metrics, and is healthy.
      const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
      expect(health.status).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(metrics).toMatch(/sandbot_jobs_total\{status="ok"\} 3/);
      expect(metrics).toContain('sandbot_cell_duration_seconds_bucket');
      expect(metrics).toContain('sandbot_queue_wait_seconds_count 3');
      expect(metrics).toMatch(/sandbot_live_sessions 1/);
      expect(metrics).toContain('sandbot_warm_pool_ready');
    });

    it(
      'survives a worker killed mid-cell: one `lost` result, no re-run, the next job runs elsewhere with files restored',
      { timeout: 120_000 },
      async () => {
        const queue = new BullmqJobQueue({ redisUrl, prefix, logger: quietLogger });
        try {
          const victim = await startWorker('victim');
          // Only the victim takes jobs for now, so the session lands there.
          await stopWorker('alpha');
          const session = `kill-${randomUUID().slice(0, 8)}`;
          const submit = (code: string) =>
            queue.submit({
              jobId: randomUUID(),
              sessionId: session,
              code,
              submittedAt: Date.now(),
            });

          const setup = await collect(
            (await submit('open("/mnt/data/keep.txt", "w").write("kept")\nkeep = 1')).events,
          );
          expect(setup.at(-1)).toMatchObject({ status: 'ok' });

          const long = await submit('import time\ntime.sleep(25)');
          const events = await collect(long.events, (event) => {
            if (event.type === 'started') victim.kill('SIGKILL');
          });
          const done = events.filter((e) => e.type === 'done');
          expect(done).toHaveLength(1);
          expect(done[0]).toMatchObject({ status: 'lost', kernelRestarted: true });

          await startWorker('rescuer');
          const next = await collect((await submit('open("/mnt/data/keep.txt").read()')).events);
          expect(next[0]).toMatchObject({ type: 'started', workerId: 'rescuer' });
          expect(next.at(-1)).toMatchObject({ type: 'done', status: 'ok', kernelRestarted: true });
          const notice = next.find((e) => e.type === 'notice');
          expect(notice?.type === 'notice' ? notice.text : '').toMatch(
            /fresh kernel.*1 file\(s\) in \/mnt\/data were restored/,
          );
          const shown = next.find((e) => e.type === 'display');
          expect(shown?.type === 'display' ? shown.data['text/plain'] : '').toBe("'kept'");

          // The killed job was not run again by anyone.
          const stream = await redis.xrange(`${prefix}:job:${long.jobId}:events`, '-', '+');
          expect(
            stream.filter(([, fields]) => (fields[1] ?? '').includes('"started"')),
          ).toHaveLength(1);

          // The rescuer removed the dead worker's containers.
          const docker = createDockerClient();
          const victimLabel = `${LABEL.worker}=victim`;
          await removalOfAll(docker, victimLabel);
          expect(
            await docker.listContainers({ all: true, filters: { label: [victimLabel] } }),
          ).toEqual([]);
        } finally {
          await queue.close();
        }
      },
    );

    it('shuts down cleanly on SIGTERM, removing its containers', async () => {
      const child = await startWorker('graceful');
      const queue = new BullmqJobQueue({ redisUrl, prefix, logger: quietLogger });
      try {
        // Only this worker takes jobs, so the session's container is its own.
        await stopWorker('rescuer');
        const handle = await queue.submit({
          jobId: randomUUID(),
          sessionId: 'graceful:s',
          code: 'print("hi")',
          submittedAt: Date.now(),
        });
        await collect(handle.events);
      } finally {
        await queue.close();
      }
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(0);
      const docker = createDockerClient();
      const left = await docker.listContainers({
        all: true,
        filters: { label: [`${LABEL.worker}=graceful`] },
      });
      expect(left).toHaveLength(0);
    });

    it('refuses to start against a Redis that may evict queue keys', async () => {
      const evicting = await privateRedis(['--maxmemory-policy', 'allkeys-lru']);
      try {
        await evicting.start();
        const failure = await execFileAsync(process.execPath, [BIN, 'worker'], {
          env: env({ WORKER_ID: 'evict', REDIS_URL: evicting.url }),
        }).catch((error: unknown) => error as { code: number; stderr: string });
        expect(failure).toMatchObject({ code: 78 });
        expect((failure as { stderr: string }).stderr).toMatch(/maxmemory-policy is allkeys-lru/);
      } finally {
        await evicting.dispose();
      }
    });
  },
);

/** Resolves once every container with `label` is gone, as Docker's events report their
 *  removal (listened to before listing, so a removal in between is not missed). */
async function removalOfAll(docker: Docker, label: string): Promise<void> {
  const stop = new AbortController();
  const events = await docker.getEvents({
    filters: { type: ['container'], event: ['destroy'], label: [label] },
    abortSignal: stop.signal,
  });
  try {
    const listed = await docker.listContainers({ all: true, filters: { label: [label] } });
    const waiting = new Set(listed.map((c) => c.Id));
    if (waiting.size === 0) return;
    let buffer = '';
    await new Promise<void>((resolve, reject) => {
      events.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines.filter((l) => l.trim() !== '')) {
          const event = JSON.parse(line) as { id?: string; Actor?: { ID?: string } };
          waiting.delete(event.Actor?.ID ?? event.id ?? '');
        }
        if (waiting.size === 0) resolve();
      });
      events.once('error', reject);
      events.once('end', () =>
        reject(new Error(`Docker's event stream ended before ${label} was gone`)),
      );
    });
  } finally {
    // Aborting ends the stream with an error nobody is waiting for any more.
    events.on('error', () => undefined);
    stop.abort();
  }
}
