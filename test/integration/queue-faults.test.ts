import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import { BullmqJobQueue } from '../../src/jobs/bullmq-job-queue.ts';
import { BullmqJobWorker } from '../../src/jobs/bullmq-job-worker.ts';
import type { JobEvent, JobHandle } from '../../src/core/job.ts';
import { SandboxManager } from '../../src/sandbox/sandbox-manager.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { dockerTestScope } from '../support/docker.ts';
import { privateRedis } from '../support/redis-server.ts';
import { quietLogger, testSandboxSettings } from '../support/sandbox.ts';

const services = inject('services');
const ready = services.sandboxImage !== undefined && services.redisUrl !== undefined;

async function collect(handle: JobHandle): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  for await (const event of handle.events) events.push(event);
  return events;
}

function resultOf(events: readonly JobEvent[]): string | undefined {
  const shown = events.filter((e) => e.type === 'display');
  return shown.at(-1)?.data['text/plain'];
}

function job(sessionId: string, code: string) {
  return { jobId: randomUUID(), sessionId, code, submittedAt: Date.now() };
}

/** A unix-socket proxy to the Docker engine that a test can cut and restore. */
async function dockerProxy(
  path: string,
): Promise<{ cut(): Promise<void>; restore(): Promise<void> }> {
  let server: Server | undefined;
  const open = new Set<Socket>();
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect('/var/run/docker.sock');
        open.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      server.listen(path, resolve);
    });
  await listen();
  return {
    async cut() {
      for (const socket of open) socket.destroy();
      open.clear();
      await new Promise((resolve) => server?.close(resolve));
    },
    restore: listen,
  };
}

describe.skipIf(!ready)('queue faults', () => {
  const redisUrl = services.redisUrl ?? '';
  const cleanups: (() => Promise<unknown>)[] = [];

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  async function worker(options: {
    redisUrl: string;
    prefix: string;
    workerId: string;
    docker?: Docker;
  }) {
    const scope = dockerTestScope();
    const manager = new SandboxManager({
      docker: options.docker ?? scope.docker,
      settings: testSandboxSettings({ poolSize: 0 }),
      workerId: options.workerId,
      sessionIdleMs: 60_000,
      logger: quietLogger,
      labels: scope.labels,
    });
    await manager.start();
    const bull = new BullmqJobWorker({
      redisUrl: options.redisUrl,
      prefix: options.prefix,
      workerId: options.workerId,
      concurrency: 4,
      manager,
      blobs: new MemoryBlobStore({ maxBlobBytes: 1e6, ttlMs: 60_000 }),
      logger: quietLogger,
      sessionIdleMs: 60_000,
    });
    await bull.start();
    const close = async () => {
      await bull.close();
      await manager.close();
      await scope.cleanup();
    };
    cleanups.push(close);
    return { manager, close };
  }

  it('ends jobs with a clear error while Docker is unreachable, and recovers when it is back', async () => {
    const prefix = uniquePrefix('docker-down');
    const dir = await mkdtemp(join(tmpdir(), 'sandbot-proxy-'));
    const proxy = await dockerProxy(join(dir, 'docker.sock'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await worker({
      redisUrl,
      prefix,
      workerId: 'flaky-docker',
      docker: new Docker({ socketPath: join(dir, 'docker.sock') }),
    });
    const queue = new BullmqJobQueue({ redisUrl, prefix, logger: quietLogger });
    cleanups.push(() => queue.close());

    await proxy.cut();
    const down = await collect(await queue.submit(job('docker:s', '1 + 1')));
    expect(down.at(-1)).toMatchObject({ type: 'done', status: 'failed' });
    const message =
      down.at(-1)?.type === 'done' ? (down.at(-1) as { message?: string }).message : '';
    expect(message).toMatch(/Docker engine unreachable/);

    await proxy.restore();
    const back = await collect(await queue.submit(job('docker:s', '1 + 1')));
    expect(back.at(-1)).toMatchObject({ type: 'done', status: 'ok' });
    expect(resultOf(back)).toBe('2');
    const redis = await connectRedis(redisUrl);
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('loses no accepted job when Redis restarts (AOF on) while jobs wait', async () => {
    const redisServer = await privateRedis([
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--maxmemory-policy',
      'noeviction',
    ]);
    cleanups.push(() => redisServer.dispose());
    await redisServer.start();
    const url = redisServer.url;

    const queue = new BullmqJobQueue({ redisUrl: url, prefix: 'faults', logger: quietLogger });
    cleanups.push(() => queue.close());
    // Accepted while no worker runs: they wait in Redis.
    const handles = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => queue.submit(job(`restart:${n}`, `${n} * 10`))),
    );
    const results = Promise.all(handles.map(collect));

    await redisServer.kill();
    await redisServer.start();
    await worker({ redisUrl: url, prefix: 'faults', workerId: 'after-restart' });

    const all = await results;
    for (const events of all) expect(events.at(-1)).toMatchObject({ type: 'done', status: 'ok' });
    expect(all.map(resultOf)).toEqual(['10', '20', '30', '40', '50']);
  }, 120_000);

  it('moves a job waiting for a worker that died to one that lives', async () => {
    const prefix = uniquePrefix('rescue');
    const redis = await connectRedis(redisUrl);
    // The session is pinned to a worker whose heartbeat is about to run out.
    await redis.set(`${prefix}:session:rescue:s:worker`, 'ghost', 'PX', 60_000);
    await redis.set(`${prefix}:worker:ghost:alive`, '1', 'PX', 1000);
    const queue = new BullmqJobQueue({ redisUrl, prefix, logger: quietLogger });
    cleanups.push(() => queue.close());
    const handle = await queue.submit(job('rescue:s', '"rescued"'));
    await worker({ redisUrl, prefix, workerId: 'living' });
    const events = await collect(handle);
    expect(events[0]).toMatchObject({ type: 'started', workerId: 'living' });
    expect(resultOf(events)).toBe("'rescued'");
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('two workers, twenty sessions, interleaved jobs: all correct, affinity kept, nothing lost', async () => {
    const prefix = uniquePrefix('twenty');
    await worker({ redisUrl, prefix, workerId: 'left' });
    await worker({ redisUrl, prefix, workerId: 'right' });
    const queue = new BullmqJobQueue({ redisUrl, prefix, logger: quietLogger });
    cleanups.push(() => queue.close());
    const sessions = Array.from({ length: 20 }, (_, i) => `many:${i}`);

    const first = await Promise.all(
      sessions.map(async (s, i) => collect(await queue.submit(job(s, `total = ${i}`)))),
    );
    const workerOf = new Map(
      first.map((events, i) => [
        sessions[i],
        events[0]?.type === 'started' ? events[0].workerId : '',
      ]),
    );
    expect(new Set(workerOf.values())).toEqual(new Set(['left', 'right']));

    // Three more rounds, all sessions at once: each adds to its own total.
    for (let round = 1; round <= 3; round += 1) {
      const rounds = await Promise.all(
        sessions.map(async (s) => collect(await queue.submit(job(s, 'total += 100\ntotal')))),
      );
      rounds.forEach((events, i) => {
        expect(events.at(-1)).toMatchObject({ type: 'done', status: 'ok' });
        expect(resultOf(events)).toBe(String(i + 100 * round));
        // Affinity: the session's jobs stay on the worker holding its kernel.
        expect(events[0]).toMatchObject({ type: 'started', workerId: workerOf.get(sessions[i]) });
      });
    }
    const redis = await connectRedis(redisUrl);
    await deleteKeys(redis, prefix);
    redis.disconnect();
  }, 180_000);
});
