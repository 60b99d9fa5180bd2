import { describe, expect, it } from 'vitest';
import {
  parseReadyCounts,
  READY_STALE_MS,
  shouldDefer,
} from '../../src/jobs/ready-kernel-routing.ts';

const now = 1_000_000;

describe('new sessions prefer the worker with a ready kernel', () => {
  it('a worker without a ready kernel leaves new sessions to a live worker that has one', () => {
    const counts = [
      { workerId: 'me', ready: 0, atMs: now },
      { workerId: 'other', ready: 2, atMs: now - 50 },
    ];
    expect(shouldDefer('me', 0, counts, now)).toBe(true);
  });

  it('a worker with a kernel of its own takes them', () => {
    const counts = [{ workerId: 'other', ready: 3, atMs: now }];
    expect(shouldDefer('me', 1, counts, now)).toBe(false);
  });

  it('takes them when no other worker has a kernel ready, or the count is stale', () => {
    expect(shouldDefer('me', 0, [{ workerId: 'other', ready: 0, atMs: now }], now)).toBe(false);
    const gone = [{ workerId: 'other', ready: 2, atMs: now - READY_STALE_MS }];
    expect(shouldDefer('me', 0, gone, now)).toBe(false);
    expect(shouldDefer('me', 0, [], now)).toBe(false);
  });

  it('never defers to its own count', () => {
    expect(shouldDefer('me', 0, [{ workerId: 'me', ready: 4, atMs: now }], now)).toBe(false);
  });

  it("reads the hash's fields and drops malformed ones", () => {
    expect(parseReadyCounts(['a', '2 1000', 'b', 'x 1000', 'c', '0 999', 'd'])).toEqual([
      { workerId: 'a', ready: 2, atMs: 1000 },
      { workerId: 'c', ready: 0, atMs: 999 },
    ]);
  });
});
