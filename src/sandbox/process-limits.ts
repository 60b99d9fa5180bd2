import type { HostConfig } from 'dockerode';

/**
 * How a sandbox's process limit is enforced, which depends on the runtime.
 *
 * Under runc the pids cgroup counts the sandbox's processes and threads and makes fork and
 * clone fail with EAGAIN at the limit. RLIMIT_NPROC must never be used there: the host
 * kernel counts it per uid, and every sandbox runs as the same uid 1000.
 *
 * Under gVisor (runsc) the pids cgroup counts gVisor's own host threads, not the sandbox's
 * tasks: with the ptrace platform a forked process costs about five host threads, so a fork
 * bomb reached a cgroup limit of 128 after 10 to 30 forks and gVisor died, the kernel in it.
 * gVisor's kernel does count RLIMIT_NPROC per uid inside each sandbox and fails fork and
 * clone with EAGAIN at it, so under runsc that rlimit is the limit, and the pids cgroup stays
 * as the host's backstop, sized for the threads gVisor needs to run that many tasks.
 *
 * gVisor also makes each process dearer in memory: it breaks copy-on-write in large units,
 * so a child forked from a kernel holding the data stack costs about 25 MB of the sandbox's
 * memory (1.3 MB under runc). Past SANDBOX_MEMORY_MB / 25 processes a fork bomb would end
 * in the memory limit instead (the kernel killed and restarted), so under runsc the rlimit
 * is also at most one task per GVISOR_MB_PER_TASK of memory. A kernel with the data stack
 * loaded runs 5 tasks, so 32 (at 1 GB) leaves room for threads and worker processes.
 *
 * The host threads gVisor needs grow with the square of the tasks when many processes each
 * keep several threads busy (a stub thread per address space and host thread that ran it):
 * 601 for 32 such tasks. The backstop allows that, up to GVISOR_MAX_HOST_THREADS; past it
 * (over about 90 tasks, so over 2.8 GB of memory) such a cell can still end gVisor and its
 * kernel, never the host.
 *
 * Figures measured with this host's runsc (release 2022-12-19, ptrace platform): 38 host
 * threads idle, 706 with 127 sleeping children, 42 with 127 threads; 1.6 GB for 60 children.
 */
export const GVISOR_HOST_THREADS_BASE = 256;
/** The backstop's ceiling: a host may have as few as 32768 pids for everything. */
export const GVISOR_MAX_HOST_THREADS = 4096;
export const GVISOR_MB_PER_TASK = 32;
const GVISOR_MIN_TASKS = 8;

export function processLimits(
  runtime: string | undefined,
  pidsLimit: number,
  memoryMb: number,
): Pick<HostConfig, 'PidsLimit' | 'Ulimits'> {
  if (runtime !== 'runsc') return { PidsLimit: pidsLimit, Ulimits: [] };
  const byMemory = Math.max(GVISOR_MIN_TASKS, Math.floor(memoryMb / GVISOR_MB_PER_TASK));
  const tasks = Math.min(pidsLimit, byMemory);
  return {
    PidsLimit: Math.min(
      GVISOR_MAX_HOST_THREADS,
      Math.ceil((tasks * tasks) / 2) + GVISOR_HOST_THREADS_BASE,
    ),
    Ulimits: [{ Name: 'nproc', Soft: tasks, Hard: tasks }],
  };
}
