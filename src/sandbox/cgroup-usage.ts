import { readFileSync } from 'node:fs';
import type { Container } from 'dockerode';

/** A container's running totals, as its cgroup keeps them. */
export interface ContainerCounters {
  /** CPU time of every process in the container since it started, in nanoseconds. */
  readonly cpuNs: number;
  /**
   * The most memory the container has used since it started (cgroup v1
   * `memory.max_usage_in_bytes`, v2 `memory.peak`; page cache included). Neither version
   * can be reset per cell without root, so this is the container's peak, not the cell's.
   */
  readonly memoryPeakBytes?: number;
}

/** Where a container's cgroup lives under the cgroup root, for each layout Docker uses. */
const LAYOUTS: readonly {
  readonly cpu: (id: string) => string;
  readonly memory: (id: string) => string;
  readonly version: 1 | 2;
}[] = [
  // cgroup v1, cgroupfs driver, then systemd driver.
  {
    cpu: (id) => `cpuacct/docker/${id}/cpuacct.usage`,
    memory: (id) => `memory/docker/${id}/memory.max_usage_in_bytes`,
    version: 1,
  },
  {
    cpu: (id) => `cpuacct/system.slice/docker-${id}.scope/cpuacct.usage`,
    memory: (id) => `memory/system.slice/docker-${id}.scope/memory.max_usage_in_bytes`,
    version: 1,
  },
  // cgroup v2, systemd driver, then cgroupfs driver.
  {
    cpu: (id) => `system.slice/docker-${id}.scope/cpu.stat`,
    memory: (id) => `system.slice/docker-${id}.scope/memory.peak`,
    version: 2,
  },
  {
    cpu: (id) => `docker/${id}/cpu.stat`,
    memory: (id) => `docker/${id}/memory.peak`,
    version: 2,
  },
];

/** How long the Docker fallback may take before the cell ends without figures. */
const STATS_TIMEOUT_MS = 2000;

/**
 * Reads a container's CPU and memory counters from its cgroup: the files under
 * /sys/fs/cgroup when the worker runs on Docker's host (a few microseconds), else Docker's
 * one-shot stats (a worker in a container, a remote engine). Undefined when neither answers
 * (the container is gone). The sandbox is never asked: what runs in it could lie.
 */
export class CgroupUsage {
  private readonly root: string;
  /** The layout that answered last time; every container of one host uses the same. */
  private layout: (typeof LAYOUTS)[number] | undefined;
  /** Set once no layout answered for a live container: Docker's stats from then on. */
  private filesUnreadable = false;

  constructor(root = '/sys/fs/cgroup') {
    this.root = root;
  }

  async read(container: Container): Promise<ContainerCounters | undefined> {
    if (!this.filesUnreadable) {
      const fromFiles = this.readFiles(container.id);
      if (fromFiles !== undefined) return fromFiles;
    }
    const fromDocker = await readDockerStats(container);
    // Docker knows the container but no file did: this worker cannot see the host's cgroups.
    if (fromDocker !== undefined) this.filesUnreadable = true;
    return fromDocker;
  }

  private readFiles(id: string): ContainerCounters | undefined {
    const layouts = this.layout === undefined ? LAYOUTS : [this.layout];
    for (const layout of layouts) {
      const cpu = readText(`${this.root}/${layout.cpu(id)}`);
      if (cpu === undefined) continue;
      const cpuNs = layout.version === 1 ? Number(cpu.trim()) : usageUsec(cpu) * 1000;
      if (!Number.isFinite(cpuNs)) continue;
      this.layout = layout;
      const memory = Number(readText(`${this.root}/${layout.memory(id)}`)?.trim());
      return Number.isFinite(memory) && memory > 0 ? { cpuNs, memoryPeakBytes: memory } : { cpuNs };
    }
    return undefined;
  }
}

function usageUsec(cpuStat: string): number {
  const line = cpuStat.split('\n').find((l) => l.startsWith('usage_usec '));
  return line === undefined ? Number.NaN : Number(line.slice('usage_usec '.length));
}

/**
 * Synchronous on purpose: a cgroup file is made by the kernel on read (microseconds, no disk),
 * while the promise API's open, read and close each wait for a libuv pool thread, several
 * milliseconds on a busy host, twice on every cell's path.
 */
function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The part of Docker's stats answer read here (cgroup v1 gives max_usage; v2 does not). */
interface StatsAnswer {
  readonly cpu_stats?: { readonly cpu_usage?: { readonly total_usage?: number } };
  readonly memory_stats?: { readonly max_usage?: number; readonly usage?: number };
}

async function readDockerStats(container: Container): Promise<ContainerCounters | undefined> {
  try {
    // dockerode passes the options on as the query, and the signal to the request; its
    // types do not list `abortSignal` for stats. One-shot: no wait for a second sample.
    const options = {
      stream: false as const,
      'one-shot': true,
      abortSignal: AbortSignal.timeout(STATS_TIMEOUT_MS),
    };
    const answer = (await container.stats(options)) as StatsAnswer;
    const cpuNs = answer.cpu_stats?.cpu_usage?.total_usage;
    if (typeof cpuNs !== 'number') return undefined;
    // v2 reports no peak through Docker: the usage now is the best figure it gives.
    const memory = answer.memory_stats?.max_usage ?? answer.memory_stats?.usage;
    return typeof memory === 'number' && memory > 0
      ? { cpuNs, memoryPeakBytes: memory }
      : { cpuNs };
  } catch {
    return undefined;
  }
}
