import type { ContainerCreateOptions, VolumeCreateOptions } from 'dockerode';
import type { SandboxSettings } from '../core/config.ts';
import { LABEL, type Labels } from './labels.ts';

const MiB = 1024 * 1024;
/** The sandbox image's unprivileged user (see sandbox-image/Dockerfile). */
export const SANDBOX_USER = '1000:1000';
export const DATA_DIR = '/mnt/data';

export type SandboxLimits = Pick<
  SandboxSettings,
  'image' | 'runtime' | 'memoryMb' | 'cpus' | 'diskMb' | 'tmpMb' | 'pidsLimit'
>;

export interface ContainerSpecInput {
  readonly name: string;
  readonly volumeName: string;
  readonly limits: SandboxLimits;
  readonly labels: Labels;
  /** The runner exits by itself after this long without a request: a last line of defence
   *  against containers outliving a worker that was killed. */
  readonly idleExitS: number;
}

/**
 * /mnt/data is a tmpfs-backed volume rather than a plain `Tmpfs` mount because Docker's
 * archive API (putArchive/getArchive, how files go in and out) cannot see tmpfs mounts but
 * does see volumes; the local driver still gives it a hard size limit.
 */
export function volumeSpec(name: string, diskMb: number, labels: Labels): VolumeCreateOptions {
  return {
    Name: name,
    Driver: 'local',
    DriverOpts: {
      type: 'tmpfs',
      device: 'tmpfs',
      o: `size=${diskMb}m,uid=1000,gid=1000,mode=0700`,
    },
    Labels: { ...labels, [LABEL.managed]: '1' },
  };
}

/** The hardened container of ../shared/DESIGN.md "Sandbox". */
export function containerSpec(input: ContainerSpecInput): ContainerCreateOptions {
  const { limits } = input;
  const memoryBytes = limits.memoryMb * MiB;
  const diskBytes = limits.diskMb * MiB;
  return {
    name: input.name,
    Image: limits.image,
    User: SANDBOX_USER,
    WorkingDir: DATA_DIR,
    // Only what the runner needs; nothing from the worker's own environment (no secrets).
    Env: [`SANDBOT_IDLE_EXIT_S=${input.idleExitS}`],
    Labels: { ...input.labels, [LABEL.managed]: '1', [LABEL.kind]: 'kernel' },
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    StdinOnce: false,
    Tty: false,
    NetworkDisabled: true,
    StopTimeout: 1,
    HostConfig: {
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Privileged: false,
      // Docker's init under gVisor makes containers exit at random on this Docker (seen with a
      // plain python3 too); gVisor reaps orphans itself, and the runner handles SIGINT as PID 1.
      Init: limits.runtime !== 'runsc',
      IpcMode: 'private',
      Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${limits.tmpMb}m` },
      Mounts: [{ Type: 'volume', Source: input.volumeName, Target: DATA_DIR, ReadOnly: false }],
      // Swap equal to memory means no swap: a memory bomb is OOM-killed, not slowed to a crawl.
      Memory: memoryBytes,
      MemorySwap: memoryBytes,
      NanoCpus: Math.round(limits.cpus * 1e9),
      PidsLimit: limits.pidsLimit,
      Ulimits: [
        { Name: 'nofile', Soft: 1024, Hard: 1024 },
        { Name: 'fsize', Soft: diskBytes, Hard: diskBytes },
      ],
      // stdout is the protocol stream (plots included); logging it would only fill the disk.
      LogConfig: { Type: 'none', Config: {} },
      ...(limits.runtime === undefined ? {} : { Runtime: limits.runtime }),
    },
  };
}
