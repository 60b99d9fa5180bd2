import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { BlobStore } from '../../src/core/blob-store.ts';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import { RedisBlobStore } from '../../src/blobs/redis-blob-store.ts';
import { BullmqJobQueue } from '../../src/jobs/bullmq-job-queue.ts';
import { BullmqJobWorker } from '../../src/jobs/bullmq-job-worker.ts';
import { EmbeddedJobQueue } from '../../src/jobs/embedded-job-queue.ts';
import type { CodeJobInput, JobEvent, JobHandle, JobQueue } from '../../src/core/job.ts';
import { JobExecutor } from '../../src/jobs/job-executor.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { quietLogger, startManager, type ManagerHarness } from '../support/sandbox.ts';

const services = inject('services');
const blobLimits = { maxBlobBytes: 10 * 1024 * 1024, ttlMs: 60_000 };

interface Transport {
  readonly queue: JobQueue;
  readonly blobs: BlobStore;
  close(): Promise<void>;
}

async function collect(handle: JobHandle): Promise<{ events: JobEvent[] }> {
  const events: JobEvent[] = [];
  for await (const event of handle.events) events.push(event);
  return { events };
}

/** Collects a job's events, cancelling it (as Stop does) once its stdout has shown `marker`. */
async function cancelOnOutput(handle: JobHandle, marker: string): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  for await (const event of handle.events) {
    events.push(event);
    if (event.type === 'stdout' && event.text.includes(marker)) void handle.cancel();
  }
  return events;
}

function job(sessionId: string, code: string, extra: Partial<CodeJobInput> = {}): CodeJobInput {
  return { jobId: randomUUID(), sessionId, code, submittedAt: Date.now(), ...extra };
}

function stdoutOf(events: readonly JobEvent[]): string {
  return events.map((e) => (e.type === 'stdout' ? e.text : '')).join('');
}

function resultOf(events: readonly JobEvent[]): string | undefined {
  const results = events.filter((e) => e.type === 'display');
  return results.at(-1)?.data['text/plain'];
}

/** One contract for every transport: nothing above the queue may tell which is in use. */
function jobQueueContract(name: string, open: () => Promise<Transport>) {
  describe.skipIf(services.sandboxImage === undefined)(`job queue contract: ${name}`, () => {
    let transport: Transport;

    beforeAll(async () => {
      transport = await open();
    });

    afterAll(async () => {
      await transport.close();
    });

    it('streams events in order while the cell runs and ends with exactly one done', async () => {
      // The cell prints "b" only when interrupted, and the test interrupts it only on seeing
      // "a": so "b" proves "a" reached us while the cell was still sleeping, not at the end.
      const code = [
        'import time',
        'try:',
        '    print("a", flush=True)',
        '    time.sleep(30)',
        '    print("slept through")',
        'except KeyboardInterrupt:',
        '    print("b")',
      ].join('\n');
      const events = await cancelOnOutput(
        await transport.queue.submit(job('contract:stream', code)),
        'a',
      );
      expect(events[0]?.type).toBe('started');
      expect(events.filter((e) => e.type === 'done')).toHaveLength(1);
      expect(events.at(-1)).toMatchObject({ type: 'done', status: 'ok' });
      expect(stdoutOf(events)).toBe('a\nb\n');
    });

    it('keeps a session’s variables from one job to the next', async () => {
      await collect(await transport.queue.submit(job('contract:state', 'counter = 41')));
      const { events } = await collect(
        await transport.queue.submit(job('contract:state', 'counter + 1')),
      );
      expect(resultOf(events)).toBe('42');
    });

    it('places uploads from the blob store and returns produced files as blobs', async () => {
      const upload = await transport.blobs.put(Buffer.from('a,b\n1,2\n'), {
        name: 'in.csv',
        mime: 'text/csv',
      });
      const { events } = await collect(
        await transport.queue.submit(
          job(
            'contract:files',
            'import pandas as pd\ndf = pd.read_csv("/mnt/data/in.csv")\n(df * 10).to_csv("/mnt/data/out.csv", index=False)',
            { uploads: [upload] },
          ),
        ),
      );
      expect(events.at(-1)).toMatchObject({ status: 'ok' });
      const file = events.find((e) => e.type === 'file');
      expect(file).toMatchObject({ path: 'out.csv', blob: { name: 'out.csv', mime: 'text/csv' } });
      const stored = file?.type === 'file' ? await transport.blobs.get(file.blob.id) : undefined;
      expect(stored?.content.toString()).toBe('a,b\n10,20\n');
    });

    it('cancels a running cell; the job still ends with one done', async () => {
      await collect(await transport.queue.submit(job('contract:cancel', 'kept = "yes"')));
      const handle = await transport.queue.submit(
        job('contract:cancel', 'import time\nprint("sleeping", flush=True)\ntime.sleep(60)'),
      );
      const events = await cancelOnOutput(handle, 'sleeping');
      expect(stdoutOf(events)).toBe('sleeping\n');
      expect(events.filter((e) => e.type === 'done')).toHaveLength(1);
      expect(events.at(-1)).toMatchObject({ type: 'done', status: 'interrupted' });
      const { events: after } = await collect(
        await transport.queue.submit(job('contract:cancel', 'kept')),
      );
      expect(resultOf(after)).toBe("'yes'");
    });

    it('runs a job submitted twice with one id once', async () => {
      await collect(await transport.queue.submit(job('contract:dedupe', 'runs = 0')));
      const twice = job('contract:dedupe', 'runs += 1\nruns');
      const [first, second] = await Promise.all([
        transport.queue.submit(twice),
        transport.queue.submit(twice),
      ]);
      const [a, b] = await Promise.all([collect(first), collect(second)]);
      expect(resultOf(a.events)).toBe('1');
      expect(resultOf(b.events)).toBe('1');
      const { events } = await collect(
        await transport.queue.submit(job('contract:dedupe', 'runs')),
      );
      expect(resultOf(events)).toBe('1');
    });

    it('answers a malformed job with a clear failure, and nothing is stuck', async () => {
      const bad = { jobId: randomUUID(), sessionId: '../../etc', code: 1, submittedAt: Date.now() };
      const { events } = await collect(
        await transport.queue.submit(bad as unknown as CodeJobInput),
      );
      expect(events).toEqual([
        expect.objectContaining({
          type: 'done',
          status: 'failed',
          message: 'invalid job: sessionId, code',
        }),
      ]);
      const tooBig = job('contract:bad', 'x'.repeat(300_000));
      const big = await collect(await transport.queue.submit(tooBig));
      expect(big.events.at(-1)).toMatchObject({ status: 'failed', message: 'invalid job: code' });
      const { events: next } = await collect(
        await transport.queue.submit(job('contract:bad', '1 + 1')),
      );
      expect(resultOf(next)).toBe('2');
    });

    it('fails clearly when an attached file has expired', async () => {
      const ghost = { id: randomUUID(), name: 'gone.csv', sizeBytes: 3, mime: 'text/csv' };
      const { events } = await collect(
        await transport.queue.submit(job('contract:expired', 'print(1)', { uploads: [ghost] })),
      );
      const done = events.at(-1);
      expect(done).toMatchObject({ status: 'failed' });
      expect(done?.type === 'done' ? done.message : '').toMatch(/gone\.csv has expired/);
    });
  });
}

jobQueueContract('embedded', async () => {
  const harness: ManagerHarness = await startManager({ poolSize: 1 });
  const blobs = new MemoryBlobStore(blobLimits);
  const executor = new JobExecutor({
    manager: harness.manager,
    blobs,
    workerId: 'embedded',
    logger: quietLogger,
  });
  const queue = new EmbeddedJobQueue(executor);
  return {
    queue,
    blobs,
    async close() {
      await queue.close();
      expect(await harness.close()).toBe(0);
    },
  };
});

const redisUrl = services.redisUrl;
if (redisUrl !== undefined) {
  jobQueueContract('BullMQ on Redis', async () => {
    const prefix = uniquePrefix('contract');
    const redis: Redis = await connectRedis(redisUrl);
    const harness = await startManager({ poolSize: 1 });
    const blobs = new RedisBlobStore(redis, `${prefix}:`, blobLimits);
    const worker = new BullmqJobWorker({
      redisUrl,
      prefix,
      workerId: `w-${randomUUID().slice(0, 8)}`,
      manager: harness.manager,
      blobs,
      logger: quietLogger,
      sessionIdleMs: 60_000,
    });
    await worker.start();
    const queue = new BullmqJobQueue({ redisUrl, prefix, logger: quietLogger });
    return {
      queue,
      blobs,
      async close() {
        await queue.close();
        await worker.close();
        expect(await harness.close()).toBe(0);
        await deleteKeys(redis, prefix);
        redis.disconnect();
      },
    };
  });
}
