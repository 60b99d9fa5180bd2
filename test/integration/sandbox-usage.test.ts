import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DoneEvent } from '../../src/core/cell-events.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { startManager, type ManagerHarness } from '../support/sandbox.ts';

const services = inject('services');

async function doneOf(sandbox: Sandbox, code: string): Promise<DoneEvent> {
  let done: DoneEvent | undefined;
  for await (const event of sandbox.execute(code)) if (event.type === 'done') done = event;
  if (done === undefined) throw new Error('no done event');
  return done;
}

describe.skipIf(services.sandboxImage === undefined)(
  "a cell's CPU and memory are read from the container's cgroup",
  () => {
    let harness: ManagerHarness;

    beforeAll(async () => {
      harness = await startManager();
    });

    afterAll(async () => {
      expect(await harness.close()).toBe(0);
    });

    it('meters a cell that burns two seconds of CPU at about two CPU-seconds', async () => {
      const sandbox = harness.manager.session('usage:burn');
      const done = await doneOf(
        sandbox,
        'import time\nstart = time.process_time()\nwhile time.process_time() - start < 2:\n    pass',
      );
      expect(done.status).toBe('ok');
      expect(done.usage?.cpuSeconds).toBeGreaterThanOrEqual(1.6);
      expect(done.usage?.cpuSeconds).toBeLessThanOrEqual(2.4);
      expect(done.usage?.memoryPeakBytes).toBeGreaterThan(1024 * 1024);
    });

    it('meters a sleeping cell near zero', async () => {
      const sandbox = harness.manager.session('usage:sleep');
      const done = await doneOf(sandbox, 'import time\ntime.sleep(2)');
      expect(done.status).toBe('ok');
      expect(done.usage?.cpuSeconds).toBeGreaterThanOrEqual(0);
      expect(done.usage?.cpuSeconds).toBeLessThan(0.3);
    });
  },
);
