import type { ContainerCreateOptions, VolumeCreateOptions } from 'dockerode';
import type { SandboxSettings } from '../core/config.ts';
import { expiresAtMs, expiryLabel, LABEL, type Labels } from './labels.ts';
import { lifetimeInitEntrypoint } from './lifetime-init.ts';
import { MASKED_PATHS } from './masked-paths.ts';
import { processLimits } from './process-limits.ts';
import { SECCOMP_PROFILE_JSON } from './seccomp-profile.ts';

const MiB = 1024 * 1024;
/** The sandbox image's unprivileged user (see sandbox-image/Dockerfile). */
export const SANDBOX_USER = '1000:1000';
export const DATA_DIR = '/mnt/data';
/** The image's CMD (sandbox-image/Dockerfile), given again because an entrypoint of our own
 *  makes Docker drop the image's CMD. Change both together. */
export const RUNNER_COMMAND = ['python3', '-P', '-m', 'runner'];
/** A sandbox's hard maximum lifetime when the settings do not name one. */
export const DEFAULT_MAX_LIFETIME_MS = 12 * 60 * 60 * 1000;

export type SandboxLimits = Pick<
  SandboxSettings,
  'image' | 'runtime' | 'memoryMb' | 'cpus' | 'diskMb' | 'tmpMb' | 'pidsLimit' | 'maxLifetimeMs'
>;

export interface ContainerSpecInput {
  readonly name: string;
  readonly volumeName: string;
  readonly limits: SandboxLimits;
  /** With `sandbot.expires` (labels.ts), that is the container's hard end; without it, the
   *  end is `limits.maxLifetimeMs` from now. */
  readonly labels: Labels;
  /** The runner exits by itself after this long without a request: a last line of defence
   *  against containers outliving a worker that was killed. */
  readonly idleExitS: number;
}

/**
 * /mnt/data is a tmpfs-backed volume with a hard size limit (the local driver's). It was made a
 * volume for Docker's archive API, which cannot see tmpfs mounts; files no longer cross the
 * boundary that way (the runner reads and writes them as the sandbox user: copy_out.py,
 * copy_in.py), but the volume's labels let sweeps find and remove it with its container.
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

/**
 * The hardened container of ../shared/DESIGN.md "Sandbox". PID 1 is our lifetime init
 * (lifetime-init.ts), which starts as root with CAP_SETUID and CAP_SETGID only, runs the
 * runner as SANDBOX_USER with no capabilities, and ends the container at its expiry.
 */
export function containerSpec(input: ContainerSpecInput): ContainerCreateOptions {
  const { limits } = input;
  const memoryBytes = limits.memoryMb * MiB;
  const diskBytes = limits.diskMb * MiB;
  const nowMs = Date.now();
  const labels = {
    ...expiryLabel(limits.maxLifetimeMs ?? DEFAULT_MAX_LIFETIME_MS, nowMs),
    ...input.labels,
  };
  const lifetimeS = Math.max(1, Math.ceil(((expiresAtMs(labels) ?? nowMs) - nowMs) / 1000));
  const processes = processLimits(limits.runtime, limits.pidsLimit, limits.memoryMb);
  return {
    name: input.name,
    Image: limits.image,
    // Root only for PID 1's first instants: it drops to SANDBOX_USER for everything it starts.
    User: '0:0',
    Entrypoint: lifetimeInitEntrypoint(lifetimeS),
    Cmd: RUNNER_COMMAND,
    WorkingDir: DATA_DIR,
    // Only what the runner needs; nothing from the worker's own environment (no secrets).
    Env: [`SANDBOT_IDLE_EXIT_S=${input.idleExitS}`],
    Labels: { ...labels, [LABEL.managed]: '1', [LABEL.kind]: 'kernel' },
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
      // For the lifetime init to drop to SANDBOX_USER; no process of the user's holds them.
      CapAdd: ['SETUID', 'SETGID'],
      // Our own seccomp profile (seccomp-profile.ts) in place of Docker's default.
      SecurityOpt: ['no-new-privileges', `seccomp=${SECCOMP_PROFILE_JSON}`],
      MaskedPaths: [...MASKED_PATHS],
      ReadonlyRootfs: true,
      Privileged: false,
      // Our lifetime init is PID 1 (it reaps orphans and forwards SIGINT). Docker's init would
      // put it at PID 2, where the user could stop it; and under gVisor Docker's init made
      // containers exit at random on this Docker.
      Init: false,
      IpcMode: 'private',
      Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${limits.tmpMb}m` },
      Mounts: [{ Type: 'volume', Source: input.volumeName, Target: DATA_DIR, ReadOnly: false }],
      // Swap equal to memory means no swap: a memory bomb is OOM-killed, not slowed to a crawl.
      Memory: memoryBytes,
      MemorySwap: memoryBytes,
      NanoCpus: Math.round(limits.cpus * 1e9),
      // The process limit is the pids cgroup under runc, RLIMIT_NPROC under gVisor.
      PidsLimit: processes.PidsLimit,
      Ulimits: [
        { Name: 'nofile', Soft: 1024, Hard: 1024 },
        { Name: 'fsize', Soft: diskBytes, Hard: diskBytes },
        ...(processes.Ulimits ?? []),
      ],
      // stdout is the protocol stream (plots included); logging it would only fill the disk.
      LogConfig: { Type: 'none', Config: {} },
      ...(limits.runtime === undefined ? {} : { Runtime: limits.runtime }),
    },
  };
}
