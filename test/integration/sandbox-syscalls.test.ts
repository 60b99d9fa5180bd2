import { readFileSync } from 'node:fs';
import { arch, release } from 'node:os';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import { lastResult, run, startManager, type ManagerHarness } from '../support/sandbox.ts';

/*
 * The kernel surface a hostile cell can reach, tried as an attacker would, under each runtime
 * Docker has (src/sandbox/seccomp-profile.ts, masked-paths.ts, process-limits.ts). Under runc
 * the calls reach the host's kernel, so our seccomp profile refuses them; under gVisor they
 * reach gVisor's own kernel, which implements some of them for the sandbox alone (runsc
 * applies an OCI seccomp profile only with --oci-seccomp), so there the test asserts what
 * gVisor does and that nothing of the host shows.
 */

const services = inject('services');

async function dockerRuntimes(): Promise<string[]> {
  if (services.sandboxImage === undefined) return [];
  try {
    const info = (await createDockerClient().info()) as { Runtimes?: Record<string, unknown> };
    return Object.keys(info.Runtimes ?? {});
  } catch {
    return [];
  }
}

const runtimes = await dockerRuntimes();
/** The sandbox runs where the tests run in this suite (a local Docker engine). */
const hostCmdline = readFileSync('/proc/cmdline', 'utf8');

/** x86_64 system call numbers; the probes print the result or the errno's name. */
const PROBE = `
import ctypes, errno, json, os
assert os.uname().machine == "x86_64", os.uname().machine
_libc = ctypes.CDLL(None, use_errno=True)
def sys_call(number, *args):
    result = _libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) for a in args])
    return "ok" if result >= 0 else errno.errorcode[ctypes.get_errno()]
_params = ctypes.create_string_buffer(120)
PTRACE_ATTACH, CLONE_NEWUSER, CLONE_NEWNS = 16, 0x10000000, 0x20000
def open_rw(path):
    try:
        os.close(os.open(path, os.O_RDWR)); return "opened"
    except OSError as e:
        return errno.errorcode[e.errno]
`;

/** What each runtime answers; [runc, runsc]. */
const EXPECTED: Record<string, readonly [string, string]> = {
  // gVisor has an io_uring of its own inside its kernel; the host's is never reached.
  io_uring_setup: ['EPERM', 'ok'],
  ptrace_attach_pid1: ['EPERM', 'EPERM'],
  process_vm_readv: ['EPERM', 'ENOSYS'],
  userfaultfd: ['EPERM', 'ENOSYS'],
  // gVisor has no performance counters and no BPF programs for the sandbox.
  perf_event_open: ['EPERM', 'ENODEV'],
  bpf: ['EPERM', 'EPERM'],
  keyctl: ['EPERM', 'EACCES'],
  // gVisor refuses a new user namespace to a process with threads, as Linux does.
  unshare_user: ['EPERM', 'EINVAL'],
  // A mount namespace under gVisor is one of gVisor's own, inside the sandbox: no mount of
  // the host is reachable from it, and gVisor (2022-12) grants it without a capability.
  unshare_mount: ['EPERM', 'ok'],
  setns: ['EPERM', 'ENOTSUP'],
  init_module: ['EPERM', 'EPERM'],
  kexec_load: ['EPERM', 'EPERM'],
  personality_no_aslr: ['EPERM', 'EINVAL'],
  proc_1_mem_rw: ['EACCES', 'EACCES'],
};

const PROBES = `
${PROBE}
print(json.dumps({
    "io_uring_setup": sys_call(425, 1, ctypes.addressof(_params)),
    "ptrace_attach_pid1": sys_call(101, PTRACE_ATTACH, 1, 0, 0),
    "process_vm_readv": sys_call(310, 1, 0, 0, 0, 0, 0),
    "userfaultfd": sys_call(323, 0),
    "perf_event_open": sys_call(298, 0, 0, -1, -1, 0),
    "bpf": sys_call(321, 0, 0, 0),
    "keyctl": sys_call(250, 0, 0),
    "unshare_user": sys_call(272, CLONE_NEWUSER),
    "unshare_mount": sys_call(272, CLONE_NEWNS),
    "setns": sys_call(308, 0, 0),
    "init_module": sys_call(175, 0, 0, 0),
    "kexec_load": sys_call(246, 0, 0, 0, 0),
    "personality_no_aslr": sys_call(135, 0x0040000),
    "proc_1_mem_rw": open_rw("/proc/1/mem"),
}, sort_keys=True))
`;

function kernelSurface(runtime: 'runc' | 'runsc') {
  const column = runtime === 'runc' ? 0 : 1;
  const available = runtimes.includes(runtime) && arch() === 'x64';

  describe.skipIf(!available)(`the kernel surface under ${runtime}`, () => {
    let harness: ManagerHarness;

    beforeAll(async () => {
      // 1 GB: under gVisor the process limit is also bounded by memory (process-limits.ts),
      // 32 tasks here.
      harness = await startManager({ runtime, poolSize: 0, pidsLimit: 128, memoryMb: 1024 });
    });

    afterAll(async () => {
      expect(await harness.close()).toBe(0);
    });

    it('refuses io_uring, ptrace, userfaultfd, perf, bpf, keys, modules and namespaces', async () => {
      const outcome = await run(harness.manager.session(`syscalls:${runtime}`), PROBES);
      expect(outcome.stderr).toBe('');
      const answered = JSON.parse(outcome.stdout) as Record<string, string>;
      const expected = Object.fromEntries(
        Object.entries(EXPECTED).map(([name, answers]) => [name, answers[column]]),
      );
      expect(answered).toEqual(expected);
    });

    it("shows nothing of the host kernel's command line or build; uname says its release", async () => {
      const outcome = await run(
        harness.manager.session(`host-details:${runtime}`),
        [
          'import json, os',
          'def read(path):',
          '    try:',
          '        return open(path).read()',
          '    except OSError as e:',
          '        return type(e).__name__',
          'print(json.dumps({"cmdline": read("/proc/cmdline"), "version": read("/proc/version"),',
          '                  "release": os.uname().release}))',
        ].join('\n'),
      );
      const seen = JSON.parse(outcome.stdout) as Record<string, string>;
      expect(seen.cmdline).not.toBe(hostCmdline);
      expect(seen.version).not.toContain(release());
      if (runtime === 'runc') {
        // Masked (MaskedPaths): empty. The release comes from uname(2), which no mount can
        // hide: under runc it is the host's.
        expect(seen.cmdline).toBe('');
        expect(seen.version).toBe('');
        expect(seen.release).toBe(release());
      } else {
        // gVisor's own /proc: its command line and kernel version, never the host's.
        expect(seen.cmdline).toMatch(/gvisor/);
        expect(seen.release).toBe('4.4.0');
      }
    });

    it('fails a fork bomb with BlockingIOError, and the kernel answers the next cell', async () => {
      const sandbox = harness.manager.session(`fork-bomb:${runtime}`);
      const outcome = await run(
        sandbox,
        [
          'import os, time',
          'children, failed = [], None',
          'try:',
          '    for _ in range(1000):',
          '        pid = os.fork()',
          '        if pid == 0:',
          '            time.sleep(60)',
          '            os._exit(0)',
          '        children.append(pid)',
          'except OSError as e:',
          '    failed = type(e).__name__',
          'for pid in children:',
          '    os.kill(pid, 9)',
          '    os.waitpid(pid, 0)',
          'print(failed, len(children) < 128)',
        ].join('\n'),
        { timeoutMs: 50_000 },
      );
      expect(outcome.status).toBe('ok');
      expect(outcome.stdout).toBe('BlockingIOError True\n');
      const next = await run(sandbox, '"alive"');
      expect(lastResult(next)).toBe("'alive'");
      expect(next.kernelRestarted).toBe(false);
    });

    it("fails a thread bomb with can't start new thread, and the kernel answers the next cell", async () => {
      const sandbox = harness.manager.session(`thread-bomb:${runtime}`);
      const outcome = await run(
        sandbox,
        [
          'import threading',
          'release, started, failed = threading.Event(), 0, None',
          'try:',
          '    for _ in range(10000):',
          '        threading.Thread(target=release.wait, daemon=True).start()',
          '        started += 1',
          'except RuntimeError as e:',
          '    failed = str(e)',
          'release.set()',
          'print(failed, started < 128)',
        ].join('\n'),
        { timeoutMs: 50_000 },
      );
      expect(outcome.status).toBe('ok');
      expect(outcome.stdout).toBe("can't start new thread True\n");
      const next = await run(sandbox, '"alive"');
      expect(lastResult(next)).toBe("'alive'");
      expect(next.kernelRestarted).toBe(false);
    });

    it('still runs the data stack: numpy, pandas, matplotlib, PIL, subprocess, threads, processes', async () => {
      const outcome = await run(
        harness.manager.session(`data-stack:${runtime}`),
        [
          'import multiprocessing, subprocess, threading',
          'import numpy as np, pandas as pd, matplotlib.pyplot as plt',
          'from PIL import Image',
          'from concurrent.futures import ThreadPoolExecutor',
          'frame = pd.DataFrame({"x": np.arange(5), "y": np.arange(5) ** 2})',
          'Image.new("RGB", (4, 4), "red").save("/tmp/red.png")',
          'with ThreadPoolExecutor(4) as pool:',
          '    squares = list(pool.map(lambda v: v * v, range(4)))',
          'with multiprocessing.Pool(2) as pool:',
          '    negated = pool.map(abs, [-1, -2])',
          'echoed = subprocess.run(["echo", "sub"], capture_output=True, text=True).stdout',
          'print(frame.y.sum(), np.linalg.inv(np.eye(3)).sum(), squares, negated, echoed.strip())',
          'plt.plot(frame.x, frame.y)',
          'plt.show()',
        ].join('\n'),
        { timeoutMs: 50_000 },
      );
      expect(outcome.stderr).toBe('');
      expect(outcome.status).toBe('ok');
      expect(outcome.stdout).toBe('30 3.0 [0, 1, 4, 9] [1, 2] sub\n');
      expect(outcome.images.map((image) => image.mime)).toEqual(['image/png']);
    });
  });
}

kernelSurface('runc');
kernelSurface('runsc');
