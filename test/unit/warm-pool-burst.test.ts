import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { KernelContainer } from '../../src/sandbox/kernel-container.ts';
import { WarmPool } from '../../src/sandbox/warm-pool.ts';

/** Just what the pool reads of a kernel: whether it lives, when it was made, destroy(). */
function fakeKernel(name: string): KernelContainer & { name: string } {
  const kernel = {
    name,
    createdAt: Date.now(),
    alive: true,
    destroy() {
      kernel.alive = false;
      return Promise.resolve();
    },
  };
  return kernel as unknown as KernelContainer & { name: string };
}

/** Starts that finish when the test says so, in the order the test chooses. */
function controlledStarts() {
  const pending: { finish: () => void; fail: (error: Error) => void }[] = [];
  let made = 0;
  let running = 0;
  let mostAtOnce = 0;
  const create = () =>
    new Promise<KernelContainer>((resolve, reject) => {
      made += 1;
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      const kernel = fakeKernel(`k${made}`);
      pending.push({
        finish: () => {
          running -= 1;
          resolve(kernel);
        },
        fail: (error) => {
          running -= 1;
          reject(error);
        },
      });
    });
  return {
    create,
    pending,
    get made() {
      return made;
    },
    get mostAtOnce() {
      return mostAtOnce;
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the warm pool in a burst of new sessions', () => {
  it('serves sessions that find it empty in arrival order, with a bounded number of starts at once', async () => {
    const starts = controlledStarts();
    const pool = new WarmPool({
      size: 0,
      create: starts.create,
      logger: pino({ level: 'silent' }),
      parallelStarts: 2,
    });
    pool.start();
    const served: string[] = [];
    const takes = [0, 1, 2, 3, 4].map((i) =>
      pool
        .take()
        .then((k) => served.push(`s${i}:${(k as KernelContainer & { name: string }).name}`)),
    );
    await tick();
    expect(starts.made).toBe(2);
    // The second start finishes first: its kernel still goes to the first session.
    starts.pending[1]?.finish();
    await tick();
    expect(served).toEqual(['s0:k2']);
    expect(starts.made).toBe(3);
    for (const n of [0, 2, 3, 4]) {
      starts.pending[n]?.finish();
      await tick();
    }
    await Promise.all(takes);
    expect(served.map((s) => s.split(':')[0])).toEqual(['s0', 's1', 's2', 's3', 's4']);
    expect(starts.made).toBe(5);
    expect(starts.mostAtOnce).toBe(2);
    await pool.close();
  });

  it('fails the oldest waiting session with the start error, and still serves the next', async () => {
    const starts = controlledStarts();
    const pool = new WarmPool({
      size: 0,
      create: starts.create,
      logger: pino({ level: 'silent' }),
      parallelStarts: 2,
    });
    pool.start();
    const first = pool.take();
    const second = pool.take();
    await tick();
    starts.pending[0]?.fail(new Error('Docker failed to start a sandbox container'));
    await expect(first).rejects.toThrow('Docker failed');
    starts.pending[1]?.finish();
    await expect(second).resolves.toMatchObject({ alive: true });
    await pool.close();
  });

  it('keeps its resting size after a burst, and closing ends sessions still waiting', async () => {
    const starts = controlledStarts();
    const pool = new WarmPool({
      size: 1,
      create: starts.create,
      logger: pino({ level: 'silent' }),
      parallelStarts: 1,
    });
    pool.start();
    starts.pending[0]?.finish();
    await pool.whenFull(1000);
    await pool.take();
    const waiting = pool.take();
    await tick();
    // One start at a time: the refill for the pool serves the waiting session first.
    starts.pending[1]?.finish();
    await expect(waiting).resolves.toMatchObject({ alive: true });
    await tick();
    expect(starts.made).toBe(3);
    const servedAtClose = pool.take();
    const stranded = pool.take();
    await tick();
    const closing = pool.close();
    starts.pending[2]?.finish();
    await closing;
    // The start under way still serves its session; the one behind it is told, not left hanging.
    await expect(servedAtClose).resolves.toMatchObject({ alive: true });
    await expect(stranded).rejects.toThrow('closed');
    expect(starts.made).toBe(3);
  });
});
