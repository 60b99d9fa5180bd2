import { readFile } from 'node:fs/promises';

/** Where Docker puts a container's CPU accounting: cgroup v1 (cgroupfs, systemd), then v2. */
const CPU_USAGE_PATHS: readonly ((id: string) => {
  path: string;
  toNs: (text: string) => number;
})[] = [
  (id) => ({ path: `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, toNs: Number }),
  (id) => ({
    path: `/sys/fs/cgroup/cpu,cpuacct/docker/${id}/cpuacct.usage`,
    toNs: Number,
  }),
  (id) => ({
    path: `/sys/fs/cgroup/cpuacct/system.slice/docker-${id}.scope/cpuacct.usage`,
    toNs: Number,
  }),
  (id) => ({ path: `/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`, toNs: usageNs }),
  (id) => ({ path: `/sys/fs/cgroup/docker/${id}/cpu.stat`, toNs: usageNs }),
];

/**
 * The CPU time every process of a container has used so far, in ms, from its cgroup on the
 * host (undefined off the host). Only the container's own processes: the work dockerd,
 * containerd and runc do to create it is not counted, so a start's cost read here is a floor.
 */
export async function containerCpuMs(fullContainerId: string): Promise<number | undefined> {
  for (const where of CPU_USAGE_PATHS) {
    const { path, toNs } = where(fullContainerId);
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text !== undefined) return toNs(text) / 1e6;
  }
  return undefined;
}

/** cgroup v2's cpu.stat counts microseconds. */
function usageNs(cpuStat: string): number {
  const line = cpuStat.split('\n').find((l) => l.startsWith('usage_usec '));
  return Number(line?.split(' ')[1]) * 1000;
}
