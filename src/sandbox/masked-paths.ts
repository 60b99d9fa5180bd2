/**
 * Paths of the host's kernel a sandbox sees as empty (HostConfig.MaskedPaths). Docker
 * replaces its own list with this one rather than adding to it, so Docker 20.10's defaults
 * come first. Ours hide what identifies or maps the host's kernel: its command line, its
 * build (version string, configuration, build id), where its data sits in memory
 * (vmcoreinfo), its symbol names and loaded modules, its hardware interrupts and its boot id.
 *
 * What stays visible under runc: the kernel release through uname(2) (a system call, not a
 * path), /proc/self/mountinfo with Docker's overlay paths (a per-process file a mask set up
 * at start cannot cover), the CPU model in /proc/cpuinfo and the memory in /proc/meminfo
 * (libraries size their work by them). Under gVisor every one of these is gVisor's own
 * (kernel 4.4.0, a 9p root, no host paths); runsc does not apply MaskedPaths and needs none.
 */
const DOCKER_DEFAULTS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const MASKED_PATHS: readonly string[] = [
  ...DOCKER_DEFAULTS,
  '/proc/cmdline',
  '/proc/version',
  '/proc/config.gz',
  '/proc/kallsyms',
  '/proc/modules',
  '/proc/interrupts',
  '/proc/sys/kernel/random/boot_id',
  '/sys/kernel/notes',
  '/sys/kernel/vmcoreinfo',
  '/sys/module',
];
