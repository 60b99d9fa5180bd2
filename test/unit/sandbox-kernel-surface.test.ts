import type { HostConfig } from 'dockerode';
import { describe, expect, it } from 'vitest';
import { containerSpec } from '../../src/sandbox/container-spec.ts';
import {
  ALLOWED_SYSCALLS,
  DENIED_SYSCALLS,
  SECCOMP_PROFILE,
} from '../../src/sandbox/seccomp-profile.ts';

const limits = {
  image: 'sandbot-sandbox:latest',
  runtime: undefined,
  memoryMb: 512,
  cpus: 1,
  diskMb: 100,
  tmpMb: 32,
  pidsLimit: 128,
};

function hostConfig(runtime: string | undefined, memoryMb = limits.memoryMb): HostConfig {
  const spec = containerSpec({
    name: 'k',
    volumeName: 'v',
    limits: { ...limits, runtime, memoryMb },
    labels: {},
    idleExitS: 60,
  });
  return spec.HostConfig ?? {};
}

describe("the sandbox's kernel surface", () => {
  it('runs every sandbox under our seccomp profile, whatever the runtime', () => {
    for (const runtime of [undefined, 'runsc']) {
      // dockerode types SecurityOpt as `any`; Docker's API has it as a list of strings.
      const options = hostConfig(runtime).SecurityOpt as string[] | undefined;
      const opt = options?.find((o) => o.startsWith('seccomp='));
      expect(JSON.parse(opt?.slice('seccomp='.length) ?? 'null')).toEqual(SECCOMP_PROFILE);
    }
  });

  it('denies by default and allows none of the calls it leaves out on purpose', () => {
    expect(SECCOMP_PROFILE.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(DENIED_SYSCALLS.filter((name) => ALLOWED_SYSCALLS.includes(name))).toEqual([]);
    const allowedAnyhow = SECCOMP_PROFILE.syscalls
      .filter((rule) => rule.action === 'SCMP_ACT_ALLOW')
      .flatMap((rule) => rule.names)
      .filter((name) => DENIED_SYSCALLS.includes(name));
    expect(allowedAnyhow).toEqual([]);
    for (const name of ['io_uring_setup', 'ptrace', 'userfaultfd', 'bpf', 'unshare', 'keyctl']) {
      expect(DENIED_SYSCALLS).toContain(name);
    }
  });

  it('allows clone only without namespace flags, and makes glibc fall back from clone3', () => {
    const clone = SECCOMP_PROFILE.syscalls.filter((rule) => rule.names.includes('clone'));
    expect(clone).toHaveLength(1);
    expect(clone[0]?.args).toEqual([
      { index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' },
    ]);
    const clone3 = SECCOMP_PROFILE.syscalls.find((rule) => rule.names.includes('clone3'));
    expect(clone3).toMatchObject({ action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
  });

  it("masks the host kernel's command line and keeps Docker's default masks", () => {
    const masked = hostConfig(undefined).MaskedPaths ?? [];
    expect(masked).toEqual(expect.arrayContaining(['/proc/cmdline', '/proc/keys', '/proc/kcore']));
  });

  it('limits processes with the pids cgroup under runc, never with a per-uid rlimit', () => {
    const host = hostConfig(undefined);
    expect(host.PidsLimit).toBe(128);
    expect(host.Ulimits?.map((u) => u.Name)).not.toContain('nproc');
  });

  it("limits processes with gVisor's own RLIMIT_NPROC under runsc, the cgroup as a backstop", () => {
    const host = hostConfig('runsc', 8192);
    expect(host.Ulimits).toContainEqual({ Name: 'nproc', Soft: 128, Hard: 128 });
    // gVisor runs a forked process on about five host threads of its own.
    expect(host.PidsLimit).toBeGreaterThan(128 * 5);
  });

  it('under runsc allows no more tasks than memory holds (gVisor: ~25 MB per forked kernel)', () => {
    const host = hostConfig('runsc', 1024);
    expect(host.Ulimits).toContainEqual({ Name: 'nproc', Soft: 32, Hard: 32 });
  });
});
