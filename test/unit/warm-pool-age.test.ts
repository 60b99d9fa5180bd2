import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { KernelContainer } from '../../src/sandbox/kernel-container.ts';
import { WarmPool } from '../../src/sandbox/warm-pool.ts';

/** Just what the pool reads of a kernel: whether it lives, when it was made, destroy(). */
function fakeKernel(createdAt: number): KernelContainer & { destroyed: boolean } {
  const kernel = {
    createdAt,
    alive: true,
    destroyed: false,
    destroy() {
      kernel.destroyed = true;
      kernel.alive = false;
      return Promise.resolve();
    },
  };
  return kernel as unknown as KernelContainer & { destroyed: boolean };
}

describe('the warm pool and the hard lifetime', () => {
  it('does not hand out a container too close to its hard lifetime, and removes it', async () => {
    const made: (KernelContainer & { destroyed: boolean })[] = [];
    let createdAt = Date.now() - 10 * 60_000; // the first one was made ten minutes ago
    const pool = new WarmPool({
      size: 1,
      maxAgeMs: 5 * 60_000,
      create: () => {
        const kernel = fakeKernel(createdAt);
        createdAt = Date.now();
        made.push(kernel);
        return Promise.resolve(kernel);
      },
      logger: pino({ level: 'silent' }),
    });
    pool.start();
    await pool.whenFull(5000);
    const taken = await pool.take();
    expect(made[0]?.destroyed).toBe(true);
    expect(taken).not.toBe(made[0]);
    expect(taken.createdAt).toBeGreaterThan(Date.now() - 60_000);
    await pool.close();
  });
});
