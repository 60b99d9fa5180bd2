import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { MemoryBlobStore } from '../src/blobs/memory-blob-store.ts';
import type { SandboxSettings } from '../src/core/config.ts';
import type { CellEvent } from '../src/core/cell-events.ts';
import { buildCellResult } from '../src/core/cell-result-builder.ts';
import { BullmqJobQueue } from '../src/jobs/bullmq-job-queue.ts';
import { BullmqJobWorker } from '../src/jobs/bullmq-job-worker.ts';
import type { JobHandle } from '../src/core/job.ts';
import { createRedis } from '../src/redis/connection.ts';
import { createDockerClient } from '../src/sandbox/docker-client.ts';
import { SandboxManager, removeContainers } from '../src/sandbox/sandbox-manager.ts';
import { percentile, round, timeMs } from './stats.ts';

/** Images of timed cells are kept as the bot keeps them: in a blob store. */
const cellBlobs = new MemoryBlobStore({ maxBlobBytes: 100 * 1024 * 1024, ttlMs: 60_000 });
const collectOutcome = (events: AsyncIterable<CellEvent>) => buildCellResult(events, cellBlobs);

export interface QueueFigures {
  queue_cell_p50_ms: number;
  queue_cell_p95_ms: number;
  direct_warm_cell_p50_ms: number;
  queue_overhead_p50_ms: number;
  cells_per_s: number;
}

async function drain(handle: JobHandle): Promise<void> {
  for await (const event of handle.events)
    if (event.type === 'done' && event.status !== 'ok') throw new Error(event.status);
}

export async function benchQueue(
  image: string,
  redisUrl: string,
  log: (line: string) => void,
): Promise<QueueFigures> {
  const docker = createDockerClient();
  const logger = pino({ level: 'silent' });
  const prefix = `sandbot-bench-${process.pid}`;
  const settings: SandboxSettings = {
    image,
    runtime: undefined,
    memoryMb: 512,
    cpus: 1,
    diskMb: 64,
    tmpMb: 32,
    pidsLimit: 128,
    cellTimeoutMs: 60_000,
    outputLimitBytes: 1024 * 1024,
    maxFileBytes: 10 * 1024 * 1024,
    maxFiles: 20,
    poolSize: 0,
  };
  const managers: SandboxManager[] = [];
  const workers: BullmqJobWorker[] = [];
  for (const workerId of ['bench-q1', 'bench-q2']) {
    const manager = new SandboxManager({
      docker,
      settings,
      workerId,
      sessionIdleMs: 600_000,
      logger,
    });
    await manager.start();
    const worker = new BullmqJobWorker({
      redisUrl,
      prefix,
      workerId,
      concurrency: 10,
      manager,
      blobs: new MemoryBlobStore({ maxBlobBytes: 1e6, ttlMs: 60_000 }),
      logger,
      sessionIdleMs: 600_000,
    });
    await worker.start();
    managers.push(manager);
    workers.push(worker);
  }
  const queue = new BullmqJobQueue({ redisUrl, prefix, logger });
  const submit = (sessionId: string, code: string) =>
    queue.submit({ jobId: randomUUID(), sessionId, code, submittedAt: Date.now() });
  try {
    log('queue cell: 1+1 through producer, Redis, worker and kernel');
    for (let i = 0; i < 20; i += 1) await drain(await submit('bench:queue', '1+1'));
    const queued: number[] = [];
    const direct: number[] = [];
    // Interleave both measurements so machine noise hits them alike.
    const pinned = (await createProbe(redisUrl, prefix)) ?? 'bench-q1';
    const owner = managers[pinned === 'bench-q1' ? 0 : 1];
    const directSession = owner?.session('bench:direct');
    if (directSession === undefined) throw new Error('no manager');
    for (let i = 0; i < 20; i += 1) await collectOutcome(directSession.execute('1+1'));
    for (let i = 0; i < 300; i += 1) {
      queued.push(await timeMs(async () => drain(await submit('bench:queue', '1+1'))));
      direct.push(await timeMs(() => collectOutcome(directSession.execute('1+1'))));
    }

    log('throughput: 20 sessions on 2 workers');
    const sessions = Array.from({ length: 20 }, (_, i) => `bench:many-${i}`);
    await Promise.all(sessions.map(async (s) => drain(await submit(s, 'x = 0'))));
    const rounds = 10;
    const elapsed = await timeMs(async () => {
      for (let r = 0; r < rounds; r += 1) {
        await Promise.all(sessions.map(async (s) => drain(await submit(s, 'x += 1'))));
      }
    });
    const queueP50 = percentile(queued, 50);
    const directP50 = percentile(direct, 50);
    return {
      queue_cell_p50_ms: queueP50,
      queue_cell_p95_ms: percentile(queued, 95),
      direct_warm_cell_p50_ms: directP50,
      queue_overhead_p50_ms: round(queueP50 - directP50),
      cells_per_s: round((sessions.length * rounds) / (elapsed / 1000), 1),
    };
  } finally {
    await queue.close();
    for (const worker of workers) await worker.close();
    for (const manager of managers) await manager.close();
    for (const workerId of ['bench-q1', 'bench-q2'])
      await removeContainers(docker, { 'sandbot.worker': workerId });
    const redis = createRedis(redisUrl);
    await redis.connect();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
}

/** Which worker holds the queue benchmark's session, so the direct run uses the same one. */
async function createProbe(redisUrl: string, prefix: string): Promise<string | undefined> {
  const redis = createRedis(redisUrl);
  await redis.connect();
  const pinned = await redis.get(`${prefix}:session:bench:queue:worker`);
  redis.disconnect();
  return pinned ?? undefined;
}
