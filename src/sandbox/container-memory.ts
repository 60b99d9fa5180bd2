/** The part of Docker's stats answer that says how memory is used. */
interface MemoryStats {
  readonly memory_stats?: {
    readonly usage?: number;
    readonly stats?: Readonly<Record<string, number | undefined>>;
  };
}

/**
 * Memory one session alone costs, in bytes: anonymous memory plus tmpfs (files in /mnt/data
 * and /tmp). Page cache of the image's files is left out: every session shares it.
 */
export function sessionMemoryBytes(answer: unknown): number {
  const stats = answer as MemoryStats;
  const s = stats.memory_stats?.stats ?? {};
  // cgroup v1 names first, then cgroup v2.
  const anon = s.total_rss ?? s.rss ?? s.anon;
  const shmem = s.total_shmem ?? s.shmem ?? 0;
  if (anon !== undefined) return anon + shmem;
  return Math.max(0, (stats.memory_stats?.usage ?? 0) - (s.inactive_file ?? s.cache ?? 0));
}
