import { readFile } from 'node:fs/promises';
import type { Docker } from '../src/sandbox/docker-client.ts';

/** Where Docker puts a container's memory cgroup: cgroup v1 (cgroupfs, systemd), then v2. */
const MEMORY_STAT_PATHS = [
  (id: string) => `/sys/fs/cgroup/memory/docker/${id}/memory.stat`,
  (id: string) => `/sys/fs/cgroup/memory/system.slice/docker-${id}.scope/memory.stat`,
  (id: string) => `/sys/fs/cgroup/system.slice/docker-${id}.scope/memory.stat`,
  (id: string) => `/sys/fs/cgroup/docker/${id}/memory.stat`,
];

/**
 * What one container costs the host, in bytes: anonymous memory plus shared memory (tmpfs) of
 * every process in the container's cgroup on the host, as sessionMemoryBytes counts it.
 * Under runc that is the kernel's own processes; under gVisor the cgroup holds the sandbox's
 * runsc-sandbox (the Sentry, whose memory file backs everything the sandboxed processes and
 * their tmpfs use) and runsc-gofer, so gVisor's own memory is included, which Docker's stats
 * (the Sentry's view from inside) leave out. Page cache of the image's files is left out, as
 * every session shares it. Undefined when the cgroup files cannot be read (not on the host).
 */
export async function hostMemoryBytes(
  docker: Docker,
  containerIdPrefix: string,
): Promise<number | undefined> {
  if (!/^[0-9a-f]{12,64}$/.test(containerIdPrefix)) return undefined;
  const [found] = await docker.listContainers({ filters: { id: [containerIdPrefix] } });
  if (found === undefined) return undefined;
  for (const path of MEMORY_STAT_PATHS) {
    const text = await readFile(path(found.Id), 'utf8').catch(() => undefined);
    if (text !== undefined) return anonPlusShmem(text);
  }
  return undefined;
}

/** memory.stat's anonymous and shared memory, hierarchical totals first (cgroup v1). */
export function anonPlusShmem(memoryStat: string): number {
  const stat = new Map<string, number>();
  for (const line of memoryStat.split('\n')) {
    const [key, value] = line.split(' ');
    if (key !== undefined && value !== undefined) stat.set(key, Number(value));
  }
  const anon = stat.get('total_rss') ?? stat.get('rss') ?? stat.get('anon') ?? 0;
  const shmem = stat.get('total_shmem') ?? stat.get('shmem') ?? 0;
  return anon + shmem;
}
