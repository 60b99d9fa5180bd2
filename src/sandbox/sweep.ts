import type { ContainerInfo, VolumeInspectInfo } from 'dockerode';
import { isNotFound, translateDockerError, type Docker } from './docker-client.ts';
import { expiresAtMs, LABEL, type Labels } from './labels.ts';

/**
 * Why something was removed: past its `sandbot.expires` label; stopped (exited, dead, or
 * created and never started); a volume no container uses; or everything (`sandbot gc --all`).
 */
export type SweepReason = 'expired' | 'exited' | 'orphaned' | 'all';

export interface SweptItem {
  readonly kind: 'container' | 'volume';
  readonly name: string;
  readonly reason: SweepReason;
  /** The named session (`sandbot exec --session`) a container served, if any. */
  readonly session?: string;
}

export interface SweepOptions {
  /** Labels everything swept must carry besides `sandbot.managed=1` (gc --label, tests). */
  readonly labels?: Labels;
  /** Every sandbot container in scope, running or not, and then every volume (gc --all). */
  readonly all?: boolean;
  /**
   * How long a stopped container that may still be someone's (not a named session's) and an
   * unused volume are left alone: its owner may still be reading the exit status, or be about
   * to create the container for the volume. Default 60 s.
   */
  readonly graceMs?: number;
  readonly nowMs?: number;
}

const DEFAULT_GRACE_MS = 60_000;
const STOPPED = new Set(['exited', 'dead', 'created']);

/**
 * Removes the sandbot containers and volumes on this Docker host that nobody may keep: past
 * their hard expiry, stopped, or volumes left without a container. Any sandbot process that
 * talks to Docker runs it (worker start and every minute, `sandbot exec`, `sandbot gc`), so
 * what a killed process or a sandbox that would not end left behind goes at the next one.
 * Expiry is absolute, so this is safe across workers and deployments. Returns what it removed.
 */
export async function sweepSandboxes(
  docker: Docker,
  options: SweepOptions = {},
): Promise<SweptItem[]> {
  const nowMs = options.nowMs ?? Date.now();
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const label = [
    `${LABEL.managed}=1`,
    ...Object.entries(options.labels ?? {}).map(([k, v]) => `${k}=${v}`),
  ];
  let containers: ContainerInfo[];
  try {
    containers = await docker.listContainers({ all: true, filters: { label } });
  } catch (error) {
    throw translateDockerError(error, 'list sandbox containers');
  }
  const swept: SweptItem[] = [];
  const kept: ContainerInfo[] = [];
  /** Volumes of the containers removed here, with the reason: they go now, not after a grace. */
  const freed = new Map<string, SweepReason>();
  for (const info of containers) {
    const reason = await containerReason(docker, info, { ...options, nowMs, graceMs });
    if (reason === undefined || !(await removeContainer(docker, info.Id))) {
      kept.push(info);
      continue;
    }
    swept.push(containerItem(info, reason));
    for (const mount of info.Mounts) if (mount.Name !== undefined) freed.set(mount.Name, reason);
  }
  const inUse = new Set(kept.flatMap((c) => c.Mounts.map((m) => m.Name ?? '')));
  let volumes: VolumeInspectInfo[];
  try {
    volumes = (await docker.listVolumes({ filters: { label } })).Volumes;
  } catch (error) {
    throw translateDockerError(error, 'list sandbox volumes');
  }
  for (const volume of volumes) {
    if (inUse.has(volume.Name)) continue;
    const reason =
      freed.get(volume.Name) ?? volumeReason(volume, options.all === true, nowMs, graceMs);
    if (reason !== undefined && (await removeVolume(docker, volume.Name))) {
      swept.push({ kind: 'volume', name: volume.Name, reason });
    }
  }
  return swept;
}

async function containerReason(
  docker: Docker,
  info: ContainerInfo,
  options: SweepOptions & { readonly nowMs: number; readonly graceMs: number },
): Promise<SweepReason | undefined> {
  if (options.all === true) return 'all';
  const expiresMs = expiresAtMs(info.Labels);
  if (expiresMs !== undefined && expiresMs <= options.nowMs) return 'expired';
  if (!STOPPED.has(info.State)) return undefined;
  const graceStartMs = options.nowMs - options.graceMs;
  // Created and never started: a create in progress looks the same at first.
  if (info.State === 'created') return info.Created * 1000 < graceStartMs ? 'exited' : undefined;
  // Nobody reattaches to a stopped named session: `sandbot exec` only takes a running one.
  if (info.Labels[LABEL.session] !== undefined) return 'exited';
  const finishedMs = await finishedAtMs(docker, info.Id);
  return finishedMs !== undefined && finishedMs < graceStartMs ? 'exited' : undefined;
}

async function finishedAtMs(docker: Docker, id: string): Promise<number | undefined> {
  try {
    const finished = Date.parse((await docker.getContainer(id).inspect()).State.FinishedAt);
    return Number.isNaN(finished) ? undefined : finished;
  } catch {
    return undefined;
  }
}

function volumeReason(
  volume: VolumeInspectInfo,
  all: boolean,
  nowMs: number,
  graceMs: number,
): SweepReason | undefined {
  if (all) return 'all';
  const expiresMs = expiresAtMs(volume.Labels);
  if (expiresMs !== undefined && expiresMs <= nowMs) return 'expired';
  // Docker lists it (API 1.29 and later); dockerode's type leaves it out.
  const { CreatedAt: createdAt } = volume as VolumeInspectInfo & { CreatedAt?: string };
  const createdMs = createdAt === undefined ? NaN : Date.parse(createdAt);
  return createdMs < nowMs - graceMs ? 'orphaned' : undefined;
}

function containerItem(info: ContainerInfo, reason: SweepReason): SweptItem {
  const name = (info.Names[0] ?? info.Id.slice(0, 12)).replace(/^\//, '');
  const session = info.Labels[LABEL.session];
  return { kind: 'container', name, reason, ...(session === undefined ? {} : { session }) };
}

/** Removes a container with its anonymous volumes; false when Docker would not. */
async function removeContainer(docker: Docker, id: string): Promise<boolean> {
  try {
    await docker.getContainer(id).remove({ force: true, v: true });
    return true;
  } catch (error) {
    return isNotFound(error);
  }
}

/**
 * False when the volume stays in use (a container was just created for it) or Docker fails.
 * Docker refuses for a moment the volume of a container it has just removed, hence the retries.
 */
async function removeVolume(docker: Docker, name: string): Promise<boolean> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await docker.getVolume(name).remove();
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      if (attempt === 3) return false;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
