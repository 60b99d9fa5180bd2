import { describe, expect, it } from 'vitest';
import {
  NO_FREE_SLOT,
  parseReadyCounts,
  READY_STALE_MS,
  shouldDefer,
} from '../../src/jobs/ready-kernel-routing.ts';

const now = 1_000_000;
const other = (spare: number, atMs = now) => ({ workerId: 'other', spare, atMs });

describe('new sessions prefer the worker with a ready kernel', () => {
  it('a worker without a ready kernel leaves new sessions to a live worker that has one', () => {
    expect(shouldDefer('me', 0, [{ workerId: 'me', spare: 0, atMs: now }, other(2)], now)).toBe(
      true,
    );
  });

  it('a worker with a kernel of its own takes them, whatever the others have', () => {
    expect(shouldDefer('me', 1, [other(3)], now)).toBe(false);
  });

  it('with no kernel ready anywhere, the worker with fewer sessions waiting takes them', () => {
    expect(shouldDefer('me', -3, [other(0)], now)).toBe(true);
    expect(shouldDefer('me', 0, [other(-3)], now)).toBe(false);
    expect(shouldDefer('me', -1, [other(-1)], now)).toBe(false);
  });

  it('leaves nothing to a worker whose slots are all busy, or whose count is stale', () => {
    expect(shouldDefer('me', 0, [other(NO_FREE_SLOT)], now)).toBe(false);
    expect(shouldDefer('me', 0, [other(2, now - READY_STALE_MS)], now)).toBe(false);
    expect(shouldDefer('me', 0, [], now)).toBe(false);
  });

  it('never defers to its own count', () => {
    expect(shouldDefer('me', 0, [{ workerId: 'me', spare: 4, atMs: now }], now)).toBe(false);
  });

  it("reads the hash's fields and drops malformed ones", () => {
    expect(parseReadyCounts(['a', '2 1000', 'b', 'x 1000', 'c', '-3 999', 'd'])).toEqual([
      { workerId: 'a', spare: 2, atMs: 1000 },
      { workerId: 'c', spare: -3, atMs: 999 },
    ]);
  });
});
