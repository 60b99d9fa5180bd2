import { describe, expect, it } from 'vitest';
import { anonPlusShmem } from '../../bench/host-memory.ts';

describe('bench: what a container costs the host', () => {
  it('counts anonymous and shared memory of the whole cgroup (cgroup v1 totals first)', () => {
    const v1 = 'cache 10\nrss 5\nshmem 3\ntotal_cache 100\ntotal_rss 40\ntotal_shmem 60\n';
    expect(anonPlusShmem(v1)).toBe(100);
  });

  it('reads cgroup v2 names, and leaves the page cache out', () => {
    expect(anonPlusShmem('anon 7000\nfile 90000\nshmem 3000\n')).toBe(10_000);
  });
});
