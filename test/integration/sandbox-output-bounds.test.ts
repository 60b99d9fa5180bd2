import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisBlobStore } from '../../src/blobs/redis-blob-store.ts';
import type { CellEvent } from '../../src/core/cell-events.ts';
import type { JobEvent } from '../../src/core/job.ts';
import { BullmqJobQueue } from '../../src/jobs/bullmq-job-queue.ts';
import { BullmqJobWorker } from '../../src/jobs/bullmq-job-worker.ts';
import { RedisKeys } from '../../src/jobs/redis-keys.ts';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import { bundleBytes } from '../../src/sandbox/output-budget.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { collectOutcome, type CellOutcome } from '../support/cell-outcome.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { lastResult, quietLogger, startManager, type ManagerHarness } from '../support/sandbox.ts';

/*
 * Floods on every output channel, written as an attacker would: through the runner (display,
 * print, raw writes to fd 1) and around it, straight to the protocol descriptor the runner
 * writes its frames to. Whatever the sandbox does, at most the cell's output limit reaches
 * the caller, with one notice, and the worker's memory stays bounded.
 */

const services = inject('services');
const LIMIT_BYTES = 64 * 1024; // testSandboxSettings' outputLimitBytes
/** Stream events a cell may produce at most (src/sandbox/stream-coalescer.ts). */
const MAX_STREAM_EVENTS = 1000;
/** What the worker may hold while it reads a flood: frames are capped at 4 Mi characters for
 *  this limit, and nothing refused is kept (unbounded, 33 MB of displays cost the CLI 390 MB). */
const MAX_WORKER_GROWTH_BYTES = 128 * 1024 * 1024;

async function dockerRuntimes(): Promise<string[]> {
  if (services.sandboxImage === undefined) return [];
  try {
    const info = (await createDockerClient().info()) as { Runtimes?: Record<string, unknown> };
    return Object.keys(info.Runtimes ?? {});
  } catch {
    return [];
  }
}

const runtimes = await dockerRuntimes();

/** User code's way to the runner's protocol descriptor and the running cell's id. */
const FORGE = `
import gc, json, os
_writer = next(o for o in gc.get_objects() if type(o).__name__ == "FrameWriter")
def forge_bytes(data):
    view = memoryview(data)
    with _writer.lock:
        while view:
            view = view[os.write(_writer.fd, view):]
def forge(event, cell=None):
    event = dict(event, id=cell or _writer.current_cell.id)
    forge_bytes((json.dumps(event) + "\\n").encode())
`;

interface Observed {
  readonly outcome: CellOutcome;
  readonly streamEvents: number;
  /** How far the worker's resident memory rose above where it was when the cell started. */
  readonly rssGrowthBytes: number;
}

async function observe(sandbox: Sandbox, code: string): Promise<Observed> {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sample = () => (peak = Math.max(peak, process.memoryUsage().rss));
  const sampler = setInterval(sample, 5);
  let streamEvents = 0;
  async function* counted(events: AsyncIterable<CellEvent>) {
    for await (const event of events) {
      if (event.type === 'stdout' || event.type === 'stderr') streamEvents += 1;
      sample();
      yield event;
    }
  }
  try {
    const outcome = await collectOutcome(counted(sandbox.execute(code)));
    return { outcome, streamEvents, rssGrowthBytes: peak - baseline };
  } finally {
    clearInterval(sampler);
  }
}

/** Everything a cell showed, counted as the budget counts it. */
function deliveredBytes(outcome: CellOutcome): number {
  const displays = outcome.displays.reduce((total, bundle) => total + bundleBytes(bundle), 0);
  const streams = Buffer.byteLength(outcome.stdout) + Buffer.byteLength(outcome.stderr);
  return streams + displays;
}

function expectTruncated(observed: Observed): void {
  const { outcome } = observed;
  expect(outcome.status).toBe('ok');
  expect(deliveredBytes(outcome)).toBeLessThanOrEqual(LIMIT_BYTES);
  expect(outcome.notices).toEqual([expect.stringMatching(/^Output truncated: .* more was not/)]);
  expect(observed.streamEvents).toBeLessThanOrEqual(MAX_STREAM_EVENTS);
}

async function expectCutOff(sandbox: Sandbox, observed: Observed): Promise<void> {
  const { outcome } = observed;
  expect(outcome.status).toBe('killed');
  expect(outcome.kernelRestarted).toBe(true);
  expect(deliveredBytes(outcome)).toBeLessThanOrEqual(LIMIT_BYTES);
  expect(outcome.notices).toEqual([
    expect.stringMatching(/produced more output than allowed .* kernel was restarted/),
  ]);
  expect(observed.rssGrowthBytes).toBeLessThan(MAX_WORKER_GROWTH_BYTES);
  const next = await observe(sandbox, '"fresh"');
  expect(lastResult(next.outcome)).toBe("'fresh'");
}

function outputBounds(runtime: string) {
  describe.skipIf(!runtimes.includes(runtime))(`output bounds under ${runtime}`, () => {
    let harness: ManagerHarness;

    beforeAll(async () => {
      harness = await startManager({
        runtime: runtime === 'runc' ? undefined : runtime,
        poolSize: 0,
      });
    });

    afterAll(async () => {
      expect(await harness.close()).toBe(0);
    });

    const session = (name: string) => harness.manager.session(`bounds:${runtime}:${name}`);

    it('keeps four 8 MB display()s to the limit, with one notice', async () => {
      const observed = await observe(
        session('display'),
        'big = "x" * (8 << 20)\nfor _ in range(4):\n    display(big)',
      );
      expectTruncated(observed);
    });

    it('keeps HTML, JSON, SVG and PNG bundles to the limit too', async () => {
      const observed = await observe(
        session('bundles'),
        [
          'import base64, json, os',
          'from IPython.display import HTML, display',
          'big = "<b>x</b>" * (1 << 20)',
          'display(HTML(big))',
          'display({"application/json": json.dumps([big])}, raw=True)',
          'display({"image/svg+xml": "<svg>" + big + "</svg>"}, raw=True)',
          'png = b"\\x89PNG\\r\\n\\x1a\\n" + os.urandom(8 << 20)',
          'display({"image/png": base64.b64encode(png).decode()}, raw=True)',
        ].join('\n'),
      );
      expectTruncated(observed);
    });

    it('caps the number of images and rich outputs a cell shows', async () => {
      const observed = await observe(
        session('images'),
        [
          'import base64, matplotlib.pyplot as plt, io',
          'buf = io.BytesIO()',
          'plt.figure(figsize=(0.2, 0.2)); plt.savefig(buf, format="png"); plt.close("all")',
          'png = base64.b64encode(buf.getvalue()).decode()',
          'for i in range(30):',
          '    display({"image/png": png, "text/plain": "img %d" % i}, raw=True)',
          'for i in range(150):',
          '    display(i)',
        ].join('\n'),
      );
      const { outcome } = observed;
      expect(outcome.status).toBe('ok');
      expect(outcome.images).toHaveLength(20);
      expect(outcome.displays).toHaveLength(100);
      expect(outcome.notices).toEqual([expect.stringMatching(/^Output truncated: .*rich output/)]);
    });

    it('bounds a flood of tiny writes to stdout and stderr', async () => {
      const observed = await observe(
        session('tiny'),
        [
          'import os, sys',
          'for i in range(100000):',
          '    os.write(1 + i % 2, b"x")',
          'for i in range(50000):',
          '    print(i, flush=True)',
        ].join('\n'),
      );
      expectTruncated(observed);
      expect(observed.outcome.stdout.startsWith('x')).toBe(true);
    });

    it('cuts off a cell that writes endless frames of its own for the running cell', async () => {
      const sandbox = session('forged-stream');
      const observed = await observe(
        sandbox,
        `${FORGE}\nwhile True:\n    forge({"type": "stream", "name": "stdout", "text": "y" * 4096})`,
      );
      await expectCutOff(sandbox, observed);
      expect(observed.outcome.stdout).toMatch(/^y+$/);
    });

    it('cuts off a cell that forges 8 MB display frames', async () => {
      const sandbox = session('forged-display');
      const observed = await observe(
        sandbox,
        [
          FORGE,
          'for kind in ("text/html", "application/json", "image/svg+xml", "text/plain"):',
          '    forge({"type": "display", "kind": "display_data", "data": {kind: "z" * (1 << 20)}})',
          '    for _ in range(8):',
          '        forge({"type": "display", "kind": "display_data", "data": {kind: "z" * (1 << 20)}})',
        ].join('\n'),
      );
      await expectCutOff(sandbox, observed);
    });

    it('cuts off a cell that writes one frame without end', async () => {
      const sandbox = session('endless-frame');
      const observed = await observe(
        sandbox,
        `${FORGE}\nforge_bytes(b'{"type":"stream","text":"')\nwhile True:\n    forge_bytes(b"w" * (1 << 20))`,
      );
      await expectCutOff(sandbox, observed);
    });

    it('cuts off a cell that floods the descriptor with frames for no cell', async () => {
      const sandbox = session('stray');
      const observed = await observe(
        sandbox,
        `${FORGE}\nwhile True:\n    forge({"type": "stream", "name": "stdout", "text": "s"}, cell="nobody")`,
      );
      await expectCutOff(sandbox, observed);
    });
  });
}

outputBounds('runc');
outputBounds('runsc');

const redisUrl = services.redisUrl;
describe.skipIf(redisUrl === undefined || !runtimes.includes('runc'))(
  'output bounds through the BullMQ queue',
  () => {
    it("keeps a flooding job's Redis event stream small", async () => {
      const url = redisUrl ?? '';
      const prefix = uniquePrefix('output-bounds');
      const redis = await connectRedis(url);
      const harness = await startManager({ poolSize: 0 });
      const worker = new BullmqJobWorker({
        redisUrl: url,
        prefix,
        workerId: `w-${randomUUID().slice(0, 8)}`,
        manager: harness.manager,
        blobs: new RedisBlobStore(redis, `${prefix}:`, { maxBlobBytes: 1 << 20, ttlMs: 60_000 }),
        logger: quietLogger,
        sessionIdleMs: 60_000,
      });
      await worker.start();
      const queue = new BullmqJobQueue({ redisUrl: url, prefix, logger: quietLogger });
      /** Runs a job; what its event stream in Redis holds once it is done. */
      const submit = async (code: string) => {
        const jobId = randomUUID();
        const handle = await queue.submit({
          jobId,
          sessionId: 'bounds:queue',
          code,
          submittedAt: Date.now(),
        });
        const events: JobEvent[] = [];
        for await (const event of handle.events) events.push(event);
        const key = new RedisKeys(prefix).events(jobId);
        const entries = await redis.xrange(key, '-', '+');
        const bytes = entries.reduce((n, [, fields]) => n + fields.join('').length, 0);
        return { events, length: await redis.xlen(key), bytes };
      };
      try {
        const honest = await submit(
          'big = "x" * (8 << 20)\nfor _ in range(3):\n    display(big)\nfor i in range(100000):\n    print(i, flush=True)',
        );
        expect(honest.events.at(-1)).toMatchObject({ type: 'done', status: 'ok' });
        const forged = await submit(
          `${FORGE}\nwhile True:\n    forge({"type": "display", "kind": "display_data", "data": {"text/html": "h" * (1 << 20)}})`,
        );
        expect(forged.events.at(-1)).toMatchObject({ type: 'done', status: 'killed' });
        for (const stream of [honest, forged]) {
          // Besides the output: started, notices, done, and JSON's escaping of newlines.
          expect(stream.length).toBeLessThanOrEqual(120);
          expect(stream.bytes).toBeLessThanOrEqual(LIMIT_BYTES + 32 * 1024);
        }
      } finally {
        await queue.close();
        await worker.close();
        expect(await harness.close()).toBe(0);
        await deleteKeys(redis, prefix);
        redis.disconnect();
      }
    });
  },
);
