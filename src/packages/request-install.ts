import type {
  InstalledPackage,
  JobEvent,
  PackagesEvent,
  RefusedPackage,
} from '../core/cell-events.ts';
import { failureText } from '../core/cell-result.ts';
import type { BlobStore } from '../core/blob-store.ts';
import type { JobQueue } from '../core/job.ts';
import { runJob } from '../conversation/run-job.ts';

/** What an `install` or `packages` job came back with, as the bot sees it. */
export interface PackagesOutcome {
  readonly installed: readonly InstalledPackage[];
  readonly refused: readonly RefusedPackage[];
  readonly notices: readonly string[];
  /** The job itself failed (the worker, Docker): in words for the user. */
  readonly failure?: string;
}

export interface PackageRequest {
  readonly sessionId: string;
  /** Requirement strings; empty with `list`. */
  readonly packages: readonly string[];
  /** Names the bot's approvers allowed for this install (engineer F's approvals). */
  readonly approvedPackages?: readonly string[];
  /** A durable turn's job id, so a resumed turn follows the job instead of running it again. */
  readonly jobId?: string;
}

/**
 * Asks the session's worker to install packages (or, with `list`, what the session has). The
 * worker resolves, downloads and installs; refusals come back as data, never thrown.
 */
export async function requestPackages(
  services: { readonly jobs: JobQueue; readonly blobs: BlobStore },
  request: PackageRequest,
  signal: AbortSignal,
  list = false,
): Promise<PackagesOutcome> {
  let event: PackagesEvent | undefined;
  const result = await runJob(
    services,
    {
      sessionId: request.sessionId,
      code: '',
      command: list ? 'packages' : 'install',
      ...(list ? {} : { packages: [...request.packages] }),
      ...(request.approvedPackages === undefined
        ? {}
        : { approvedPackages: [...request.approvedPackages] }),
      ...(request.jobId === undefined ? {} : { jobId: request.jobId }),
    },
    signal,
    (e: JobEvent) => {
      if (e.type === 'packages') event = e;
    },
  );
  const failure = failureText(result);
  return {
    installed: event?.installed ?? [],
    refused: event?.refused ?? [],
    notices: result.notices,
    ...(failure === undefined ? {} : { failure }),
  };
}

/** The outcome in a few lines, for a chat reply and for the model's tool result alike. */
export function describePackages(outcome: PackagesOutcome): string {
  const lines: string[] = [];
  if (outcome.failure !== undefined) lines.push(`Nothing was installed: ${outcome.failure}`);
  if (outcome.installed.length > 0) {
    const names = outcome.installed.map((p) => `${p.name} ${p.version}`).join(', ');
    lines.push(`Installed (importable now): ${names}.`);
  }
  for (const refusal of outcome.refused) {
    lines.push(`Not installed: ${refusal.name}: ${refusal.reason}.`);
  }
  lines.push(...outcome.notices);
  return lines.length > 0 ? lines.join('\n') : 'Nothing to install.';
}

/** The session's installed packages, for the `packages` command. */
export function describeInstalled(outcome: PackagesOutcome): string {
  if (outcome.failure !== undefined) return `The list is not available: ${outcome.failure}`;
  if (outcome.installed.length === 0) {
    return 'No packages installed in this thread (only what the sandbox image has).';
  }
  const list = outcome.installed.map((p) => `- ${p.name} ${p.version}`).join('\n');
  return `Installed in this thread:\n${list}`;
}
