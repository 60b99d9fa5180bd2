/**
 * The seccomp profile every sandbox runs under, given to Docker as `seccomp=<json>` in
 * HostConfig.SecurityOpt. It has the shape of Docker's default profile (an allow-list, every
 * other call failing with EPERM) but is written for this sandbox alone: a Python kernel and
 * its data stack, as an unprivileged user with no capabilities, and no network. So it allows
 * only what such a process uses, and leaves out what Docker 20.10's default allows although
 * the stack never needs it: io_uring (its host-kernel bugs are the reason it exists here),
 * ptrace and process_vm_readv/writev (reading or steering PID 1 or another process of the
 * user), pidfd_getfd and kcmp, memfd_secret, name_to_handle_at, modify_ldt, personality
 * changes other than a query, and socket families beyond Unix, IP and netlink. The calls
 * Docker's default only allows with a capability we drop (bpf, perf_event_open, unshare,
 * setns, mount, module and kexec calls, keyctl and friends, clone with namespace flags) stay
 * out too, whatever a later Docker's default says.
 *
 * Under gVisor (runsc) the profile is in the OCI spec too, but runsc applies it only when
 * registered with `--oci-seccomp`; either way a sandbox's calls reach gVisor's kernel, not
 * the host's, and gVisor filters its own calls to the host (README "Security").
 *
 * Names the host's libseccomp does not know are skipped by runc, so one profile serves older
 * and newer kernels; runc answers ENOSYS (not EPERM) for calls newer than any named here, so
 * glibc's fallbacks for new calls (clone3, fchmodat2, ...) keep working.
 */

const EPERM = 1;
const ENOSYS = 38;

/** The namespace flags of clone(2): CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID
 *  and NEWNET. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;

const PER_LINUX = 0;
/** personality(0xffffffff) only reads the current persona. */
const PERSONALITY_QUERY = 0xffffffff;

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
/** glibc's getaddrinfo and getifaddrs ask the kernel over netlink. */
const AF_NETLINK = 16;

/** Syscall names written as words, one list per purpose. */
function names(words: string): string[] {
  return words.split(/\s+/).filter((w) => w !== '');
}

/** Calls allowed with any arguments, by purpose. */
const ALLOWED: Readonly<Record<string, string[]>> = {
  files: names(`
access chdir chmod chown close close_range copy_file_range creat dup dup2 dup3
faccessat faccessat2 fadvise64 fallocate fchdir fchmod fchmodat fchmodat2 fchown
fchownat fcntl fdatasync fgetxattr flistxattr flock fremovexattr fsetxattr fstat
fstatfs fsync ftruncate futimesat getcwd getdents getdents64 getxattr
inotify_add_watch inotify_init inotify_init1 inotify_rm_watch ioctl lchown lgetxattr
link linkat listxattr llistxattr lremovexattr lseek lsetxattr lstat memfd_create
mkdir mkdirat mknod mknodat newfstatat open openat openat2 pipe pipe2 pread64 preadv
preadv2 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv
removexattr rename renameat renameat2 rmdir sendfile setxattr splice stat statfs
statx symlink symlinkat sync sync_file_range syncfs tee truncate umask unlink
unlinkat utime utimensat utimes vmsplice write writev
`),
  // Linux's older asynchronous I/O (not io_uring), which Docker's default allows too.
  asyncIo: names('io_cancel io_destroy io_getevents io_pgetevents io_setup io_submit'),
  waiting: names(`
epoll_create epoll_create1 epoll_ctl epoll_pwait epoll_pwait2 epoll_wait eventfd
eventfd2 poll ppoll pselect6 select signalfd signalfd4 timerfd_create
timerfd_gettime timerfd_settime
`),
  memory: names(`
brk madvise membarrier mincore mlock mlock2 mlockall mmap mprotect mremap msync
munlock munlockall munmap pkey_alloc pkey_free pkey_mprotect remap_file_pages
`),
  processes: names(`
arch_prctl capget capset execve execveat exit exit_group fork futex futex_waitv
get_robust_list getcpu getpgid getpgrp getpid getppid getpriority getrlimit
getrusage getsid gettid ioprio_get ioprio_set kill pidfd_open pidfd_send_signal
prctl prlimit64 restart_syscall rseq sched_get_priority_max sched_get_priority_min
sched_getaffinity sched_getattr sched_getparam sched_getscheduler
sched_rr_get_interval sched_setaffinity sched_setattr sched_setparam
sched_setscheduler sched_yield seccomp set_robust_list set_tid_address setpgid
setpriority setrlimit setsid sysinfo tgkill times tkill uname vfork wait4 waitid
`),
  // PID 1 (lifetime-init.ts) changes uids once; without capabilities these can only drop.
  identity: names(`
getegid geteuid getgid getgroups getresgid getresuid getuid setfsgid setfsuid setgid
setgroups setregid setresgid setresuid setreuid setuid
`),
  signals: names(`
alarm getitimer pause rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo
rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_tgsigqueueinfo setitimer sigaltstack
`),
  time: names(`
clock_getres clock_gettime clock_nanosleep gettimeofday nanosleep time timer_create
timer_delete timer_getoverrun timer_gettime timer_settime
`),
  // No network (NetworkMode none), but multiprocessing, asyncio and joblib talk over
  // sockets inside the sandbox.
  sockets: names(`
accept accept4 bind connect getpeername getsockname getsockopt listen recvfrom
recvmmsg recvmsg sendmmsg sendmsg sendto setsockopt shutdown socketpair
`),
  // multiprocessing's locks and shared memory.
  ipc: names(`
mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedsend mq_unlink msgctl msgget
msgrcv msgsnd semctl semget semop semtimedop shmat shmctl shmdt shmget
`),
  randomness: names('getrandom'),
};

/**
 * What the sandbox's kernel surface leaves out on purpose; none of it is in ALLOWED (a unit
 * test checks), so each fails with EPERM. Named so tests and readers see the intent.
 */
export const DENIED_SYSCALLS: readonly string[] = names(`
io_uring_setup io_uring_enter io_uring_register ptrace process_vm_readv
process_vm_writev process_madvise pidfd_getfd kcmp userfaultfd perf_event_open bpf
keyctl add_key request_key init_module finit_module delete_module kexec_load
kexec_file_load unshare setns mount umount2 pivot_root chroot fsopen fsmount
open_tree move_mount name_to_handle_at open_by_handle_at memfd_secret modify_ldt
syslog acct quotactl reboot swapon swapoff
`);

export type SeccompAction = 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';

export interface SeccompArg {
  readonly index: number;
  readonly value: number;
  readonly valueTwo?: number;
  readonly op: 'SCMP_CMP_EQ' | 'SCMP_CMP_MASKED_EQ';
}

export interface SeccompRule {
  readonly names: readonly string[];
  readonly action: SeccompAction;
  readonly errnoRet?: number;
  readonly args?: readonly SeccompArg[];
  readonly comment?: string;
}

/** The JSON Docker reads (Docker 20.10's profile format, `defaultErrnoRet` included). */
export interface SeccompProfile {
  readonly defaultAction: SeccompAction;
  readonly defaultErrnoRet: number;
  readonly archMap: readonly { architecture: string; subArchitectures: readonly string[] }[];
  readonly syscalls: readonly SeccompRule[];
}

function allowedWhenArg0Is(name: string, values: readonly number[], comment: string) {
  return values.map((value): SeccompRule => ({
    names: [name],
    action: 'SCMP_ACT_ALLOW',
    args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }],
    comment,
  }));
}

/** Every call a sandbox may make with any arguments. */
export const ALLOWED_SYSCALLS: readonly string[] = Object.values(ALLOWED).flat();

export const SECCOMP_PROFILE: SeccompProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: EPERM,
  // Native calls only: 32-bit (x86, x32, arm) entry points are another surface nothing in
  // the image uses, and runc kills a thread that tries one.
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: [] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: [] },
  ],
  syscalls: [
    { names: ALLOWED_SYSCALLS, action: 'SCMP_ACT_ALLOW' },
    {
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
      comment: 'processes and threads, but no new namespaces',
    },
    {
      names: ['clone3'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: ENOSYS,
      comment: 'its flags are behind a pointer seccomp cannot read; glibc falls back to clone',
    },
    ...allowedWhenArg0Is(
      'socket',
      [AF_UNIX, AF_INET, AF_INET6, AF_NETLINK],
      'no AF_ALG, AF_VSOCK, AF_PACKET, ... (kernel code nothing here needs)',
    ),
    ...allowedWhenArg0Is(
      'personality',
      [PER_LINUX, PERSONALITY_QUERY],
      'no ADDR_NO_RANDOMIZE or READ_IMPLIES_EXEC',
    ),
  ],
};

/** The value of HostConfig.SecurityOpt's `seccomp=` entry. */
export const SECCOMP_PROFILE_JSON = JSON.stringify(SECCOMP_PROFILE);
