import { describe, expect, it } from 'vitest';
import { containerSpec, volumeSpec } from '../../src/sandbox/container-spec.ts';

const limits = {
  image: 'sandbot-sandbox:latest',
  runtime: undefined,
  memoryMb: 512,
  cpus: 1.5,
  diskMb: 100,
  tmpMb: 32,
  pidsLimit: 128,
};

describe('the sandbox container', () => {
  const spec = containerSpec({
    name: 'k',
    volumeName: 'v',
    limits,
    labels: { 'sandbot.worker': 'w' },
    idleExitS: 60,
  });
  const host = spec.HostConfig ?? {};

  it('has no network', () => {
    expect(host.NetworkMode).toBe('none');
    expect(spec.NetworkDisabled).toBe(true);
  });

  it('drops every capability but the two its init uses to drop to the sandbox user', () => {
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.CapAdd).toEqual(['SETUID', 'SETGID']);
    expect(host.SecurityOpt).toContain('no-new-privileges');
    expect(host.Privileged).toBe(false);
    // PID 1 starts as root only to run the runner as 1000:1000 (see lifetime-init.ts).
    expect(spec.User).toBe('0:0');
    expect(JSON.stringify(spec.Entrypoint)).toContain(
      'os.setresuid(SANDBOX_ID, SANDBOX_ID, SANDBOX_ID)',
    );
    expect(spec.Cmd).toEqual(['python3', '-P', '-m', 'runner']);
  });

  it('carries its hard expiry in a label and gives its init the same lifetime', () => {
    const now = Math.floor(Date.now() / 1000);
    const short = containerSpec({
      name: 'k',
      volumeName: 'v',
      limits: { ...limits, maxLifetimeMs: 90_000 },
      labels: {},
      idleExitS: 60,
    });
    const expires = Number(short.Labels?.['sandbot.expires']);
    expect(expires).toBeGreaterThanOrEqual(now + 90);
    expect(expires).toBeLessThanOrEqual(now + 92);
    const lifetimeS = Number(short.Entrypoint?.at(-1));
    expect(lifetimeS).toBeGreaterThan(80);
    expect(lifetimeS).toBeLessThanOrEqual(91);
  });

  it('has a read-only root with size-limited writable places', () => {
    expect(host.ReadonlyRootfs).toBe(true);
    expect(host.Tmpfs?.['/tmp']).toContain('size=32m');
    expect(host.Mounts).toEqual([
      { Type: 'volume', Source: 'v', Target: '/mnt/data', ReadOnly: false },
    ]);
  });

  it('limits memory without swap, CPU, processes, open files and file size', () => {
    expect(host.Memory).toBe(512 * 1024 * 1024);
    expect(host.MemorySwap).toBe(host.Memory);
    expect(host.NanoCpus).toBe(1.5e9);
    expect(host.PidsLimit).toBe(128);
    expect(host.Ulimits).toContainEqual({
      Name: 'fsize',
      Soft: 100 * 1024 * 1024,
      Hard: 100 * 1024 * 1024,
    });
    expect(host.Ulimits?.some((u) => u.Name === 'nofile')).toBe(true);
  });

  it('runs under its own init, carries no secrets, and mounts nothing from the host', () => {
    expect(host.Init).toBe(false);
    expect(spec.Env).toEqual(['SANDBOT_IDLE_EXIT_S=60']);
    expect(host.Binds).toBeUndefined();
    expect(JSON.stringify(spec)).not.toContain('docker.sock');
  });

  it('is labelled for ownership', () => {
    expect(spec.Labels).toMatchObject({ 'sandbot.managed': '1', 'sandbot.worker': 'w' });
  });

  it('passes a runtime such as gVisor straight to Docker', () => {
    const gvisor = containerSpec({
      name: 'k',
      volumeName: 'v',
      limits: { ...limits, runtime: 'runsc' },
      labels: {},
      idleExitS: 1,
    });
    expect(gvisor.HostConfig?.Runtime).toBe('runsc');
    expect(host.Runtime).toBeUndefined();
  });

  it('gives /mnt/data a size-limited tmpfs volume owned by the sandbox user', () => {
    const volume = volumeSpec('v', 100, {});
    expect(volume.DriverOpts).toEqual({
      type: 'tmpfs',
      device: 'tmpfs',
      o: 'size=100m,uid=1000,gid=1000,mode=0700',
    });
  });
});
