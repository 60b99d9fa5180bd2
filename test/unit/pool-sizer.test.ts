import { describe, expect, it } from 'vitest';
import { ARRIVAL_WINDOW_MS, IDLE_MS, PoolSizer } from '../../src/sandbox/pool-sizer.ts';

const MB = 1024 * 1024;
const PLENTY = 64 * 1024 * MB;

function sizer(restingSize = 2, maxSize = 8): PoolSizer {
  return new PoolSizer({ restingSize, maxSize, kernelMemoryBytes: 512 * MB, reserveBytes: 0 });
}

describe('the warm pool size, on a fake clock', () => {
  it('rests at the resting size with no arrivals', () => {
    expect(sizer().target(0, 2, PLENTY)).toBe(2);
  });

  it('grows to the busiest minute of arrivals, up to the maximum', () => {
    const pool = sizer();
    for (let s = 0; s < 5; s += 1) pool.arrived(s * 1000);
    expect(pool.target(5000, 2, PLENTY)).toBe(5);
    for (let s = 5; s < 20; s += 1) pool.arrived(s * 1000);
    expect(pool.target(20_000, 2, PLENTY)).toBe(8);
  });

  it('keeps the grown size for five minutes after the last arrival, then rests', () => {
    const pool = sizer();
    for (let i = 0; i < 6; i += 1) pool.arrived(i * 100);
    // Past the minute, the busiest minute still counts...
    expect(pool.target(ARRIVAL_WINDOW_MS + 1000, 6, PLENTY)).toBe(6);
    // ...until five quiet minutes have passed.
    expect(pool.target(500 + IDLE_MS, 6, PLENTY)).toBe(2);
  });

  it('grows no further than free memory allows, and never below what is ready or at rest', () => {
    const pool = sizer();
    for (let i = 0; i < 8; i += 1) pool.arrived(i);
    // Room for one more 512 MB kernel beside the three ready.
    expect(pool.target(10, 3, 600 * MB)).toBe(4);
    expect(pool.target(10, 3, 0)).toBe(3);
    expect(pool.target(10, 0, 0)).toBe(2);
  });

  it('a maximum below the resting size leaves the resting size', () => {
    const pool = sizer(4, 1);
    for (let i = 0; i < 10; i += 1) pool.arrived(i);
    expect(pool.target(10, 4, PLENTY)).toBe(4);
  });
});
