import type { BlobStore } from '../core/blob-store.ts';
import type { InstalledPackage, RefusedPackage } from '../core/cell-events.ts';
import type { PackageSettings } from '../core/config.ts';
import { isSandbotError } from '../core/errors.ts';
import type { CodeJob, JobDone, JobEvent } from '../core/job.ts';
import type { Logger } from '../logging/logger.ts';
import type { Sandbox } from '../sandbox/sandbox.ts';
import { Allowlist } from './allowlist.ts';
import { FetchRefused } from './fetch-bounded.ts';
import { PackageIndex } from './package-index.ts';
import { resolve, type Pick } from './resolve.ts';
import { installInKernel, type WheelFile } from './sandbox-install.ts';
import type { SessionPackages } from './session-packages.ts';
import { targetPlatform } from './target-platform.ts';

export const PACKAGES_OFF_REASON =
  'packages cannot be installed here: this bot has no package index (SANDBOX_PACKAGE_INDEX)';

/** What the worker needs to install packages; `settings` undefined: the feature is off. */
export interface PackageJobs {
  readonly settings: PackageSettings | undefined;
  readonly blobs: BlobStore;
  readonly store: SessionPackages;
  readonly logger: Logger;
  /** How long a session lives: its wheels in the blob store are kept as long. */
  readonly lifetimeMs?: number;
}

type Emit = (event: JobEvent) => Promise<void>;
type Ending = Omit<JobDone, 'type' | 'durationMs'>;

/**
 * The worker's side of the `install` and `packages` jobs (JobExecutor calls it): resolves on
 * the worker, downloads wheels within the caps, installs them in the session's kernel, and
 * remembers them for reinstallPackages. Ends with one `packages` event; refusals are results.
 */
export async function runPackagesJob(
  job: CodeJob,
  sandbox: Sandbox,
  emit: Emit,
  jobs: PackageJobs | undefined,
  signal: AbortSignal,
): Promise<Ending> {
  if (job.command === 'packages') {
    const installed = (await jobs?.store.list(job.sessionId)) ?? [];
    await emit({
      type: 'packages',
      installed: installed.map(({ name, version }) => ({ name, version })),
      refused: [],
    });
    return { status: 'ok', kernelRestarted: false };
  }
  const requests = job.packages ?? [];
  if (jobs?.settings === undefined) {
    const refused = requests.map((name) => ({
      name,
      reason: PACKAGES_OFF_REASON,
      offAllowlist: false,
    }));
    await emit({ type: 'packages', installed: [], refused });
    return { status: 'ok', kernelRestarted: false };
  }
  const outcome = await install(job, sandbox, jobs, jobs.settings, signal, emit);
  await emit({ type: 'packages', ...outcome });
  return { status: 'ok', kernelRestarted: false };
}

async function install(
  job: CodeJob,
  sandbox: Sandbox,
  jobs: PackageJobs,
  settings: PackageSettings,
  signal: AbortSignal,
  emit: Emit,
): Promise<{ installed: InstalledPackage[]; refused: RefusedPackage[] }> {
  const kernelInfo = await sandbox.withKernel((kernel) =>
    Promise.resolve({ python: kernel.pythonVersion, packages: kernel.packages ?? [] }),
  );
  const index = new PackageIndex({
    indexUrl: settings.indexUrl,
    maxWheelBytes: settings.maxWheelBytes,
    signal,
  });
  const earlier = await jobs.store.list(job.sessionId);
  const resolution = await resolve(job.packages ?? [], {
    index,
    allow: new Allowlist(settings.allow, job.approvedPackages ?? []),
    target: targetPlatform(kernelInfo.python),
    imagePackages: new Set(kernelInfo.packages),
    installed: new Map(earlier.map((p) => [p.name, p.version])),
  });
  if (resolution.present.length > 0) {
    await emit({
      type: 'notice',
      text: `Already installed: ${resolution.present.join(', ')}.`,
    });
  }
  const refused = [...resolution.refused];
  const wheels = await download(resolution.picks, index, settings, refused);
  if (wheels.length === 0) return { installed: [], refused };
  const result = await sandbox.withKernel((kernel) =>
    installInKernel(
      kernel,
      wheels.map((w) => w.wheel),
    ),
  );
  if (result.kind === 'failed') {
    for (const { pick } of wheels) {
      refused.push({
        name: pick.name,
        reason: `the sandbox could not install it: ${result.reason}`,
        offAllowlist: false,
      });
    }
    return { installed: [], refused };
  }
  await remember(job.sessionId, wheels, result.packages, jobs);
  return { installed: [...result.packages], refused };
}

interface Downloaded {
  readonly pick: Pick;
  readonly wheel: WheelFile;
}

/**
 * Downloads the chosen wheels within the per-wheel and per-install caps. A wheel that fails
 * refuses every request that needs it, and drops the wheels only those requests needed.
 */
async function download(
  picks: readonly Pick[],
  index: PackageIndex,
  settings: PackageSettings,
  refused: RefusedPackage[],
): Promise<Downloaded[]> {
  const failedRoots = new Set<string>();
  const done: Downloaded[] = [];
  let totalBytes = 0;
  for (const pick of picks) {
    if ([...pick.roots].some((root) => failedRoots.has(root))) continue;
    const remaining = settings.maxTotalBytes - totalBytes;
    try {
      const content = await index.wheel(pick.file, Math.min(settings.maxWheelBytes, remaining));
      totalBytes += content.length;
      done.push({ pick, wheel: { fileName: pick.file.fileName, content } });
    } catch (error) {
      if (!(error instanceof FetchRefused)) throw error;
      const overTotal = error.tooLarge && remaining < settings.maxWheelBytes;
      const reason = overTotal
        ? `${pick.file.fileName} would take this install past ${Math.round(settings.maxTotalBytes / 1048576)} MB in all`
        : error.message;
      refused.push({ name: pick.name, reason, offAllowlist: false });
      for (const root of pick.roots) {
        failedRoots.add(root);
        if (root !== pick.name) {
          refused.push({
            name: root,
            reason: `it needs ${pick.name}, which was refused`,
            offAllowlist: false,
          });
        }
      }
    }
  }
  return done.filter(({ pick }) => ![...pick.roots].some((root) => failedRoots.has(root)));
}

/** Keeps each installed wheel in the blob store (when it fits) and the session's list. */
async function remember(
  sessionId: string,
  wheels: readonly Downloaded[],
  installed: readonly InstalledPackage[],
  jobs: PackageJobs,
): Promise<void> {
  for (const { pick, wheel } of wheels) {
    const entry = installed.find((p) => p.name === pick.name);
    if (entry === undefined) continue;
    let blob;
    try {
      blob = await jobs.blobs.put(wheel.content, { name: wheel.fileName, mime: 'application/zip' });
      if (jobs.lifetimeMs !== undefined) await jobs.blobs.touch([blob.id], jobs.lifetimeMs);
    } catch (error) {
      if (!isSandbotError(error, 'BLOB_TOO_LARGE')) throw error;
      blob = undefined; // fetched from the index again when it is reinstalled
    }
    await jobs.store.remember(sessionId, {
      name: entry.name,
      version: entry.version,
      fileName: wheel.fileName,
      ...(blob === undefined ? {} : { blob }),
    });
  }
}
