import type { InstalledPackage } from '../core/cell-events.ts';
import type { Sandbox } from '../sandbox/sandbox.ts';
import { FetchRefused } from './fetch-bounded.ts';
import type { PackageJobs } from './install-job.ts';
import { PackageIndex } from './package-index.ts';
import { installInKernel, type WheelFile } from './sandbox-install.ts';
import type { SessionPackage } from './session-packages.ts';

export interface ReinstallOutcome {
  readonly installed: readonly InstalledPackage[];
  /** Names that could not be put back (wheel gone from the store and the index, pip failed). */
  readonly lost: readonly string[];
}

/**
 * Installs a session's packages again into its new kernel (after a restore: files, then
 * packages, then the checkpoint, whose modules may import them). The same wheels as before:
 * from the blob store, or from the index by their file name when the store no longer has them.
 */
export async function reinstallPackages(
  sessionId: string,
  sandbox: Sandbox,
  jobs: PackageJobs,
  signal?: AbortSignal,
): Promise<ReinstallOutcome> {
  const remembered = await jobs.store.list(sessionId);
  if (remembered.length === 0) return { installed: [], lost: [] };
  const wheels: WheelFile[] = [];
  const lost: string[] = [];
  for (const entry of remembered) {
    const content = await wheelOf(entry, jobs, signal);
    if (content === undefined) lost.push(entry.name);
    else wheels.push({ fileName: entry.fileName, content });
  }
  if (wheels.length === 0) return { installed: [], lost };
  const result = await sandbox.withKernel((kernel) => installInKernel(kernel, wheels));
  if (result.kind === 'failed') {
    jobs.logger.warn({ session: sessionId, reason: result.reason }, 'reinstall failed');
    return { installed: [], lost: remembered.map((p) => p.name) };
  }
  return { installed: result.packages, lost };
}

async function wheelOf(
  entry: SessionPackage,
  jobs: PackageJobs,
  signal: AbortSignal | undefined,
): Promise<Buffer | undefined> {
  if (entry.blob !== undefined) {
    const blob = await jobs.blobs.get(entry.blob.id);
    if (blob !== undefined) return blob.content;
  }
  const settings = jobs.settings;
  if (settings === undefined) return undefined;
  const index = new PackageIndex({
    indexUrl: settings.indexUrl,
    maxWheelBytes: settings.maxWheelBytes,
    ...(signal === undefined ? {} : { signal }),
  });
  try {
    const file = (await index.files(entry.name)).find((f) => f.fileName === entry.fileName);
    return file === undefined ? undefined : await index.wheel(file);
  } catch (error) {
    if (error instanceof FetchRefused) return undefined;
    throw error;
  }
}
