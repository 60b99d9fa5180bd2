import { randomUUID } from 'node:crypto';
import { SandbotError } from '../core/errors.ts';
import type { InstalledPackage } from '../core/cell-events.ts';
import { sandboxText, uploadRequests } from '../sandbox/file-transfer.ts';
import type { KernelContainer } from '../sandbox/kernel-container.ts';
import { exchange } from '../sandbox/runner-exchange.ts';

/** A wheel on its way into a sandbox. */
export interface WheelFile {
  readonly fileName: string;
  readonly content: Buffer;
}

/** How long an upload may wait for the runner's answer once its bytes are sent. */
const UPLOAD_STALL_MS = 60_000;
/** pip's own bound in the runner (install.py) is 300 s; this outlasts it. */
const INSTALL_STALL_MS = 330_000;

export type SandboxInstallOutcome =
  | { readonly kind: 'installed'; readonly packages: readonly InstalledPackage[] }
  | { readonly kind: 'failed'; readonly reason: string };

/**
 * Copies wheels into the kernel's private wheels area (written by the runner as the sandbox
 * user) and asks the runner to install them offline. What the runner answers is bounded by
 * the frame schema and used only as the list of what is importable now.
 */
export async function installInKernel(
  kernel: KernelContainer,
  wheels: readonly WheelFile[],
): Promise<SandboxInstallOutcome> {
  for (const wheel of wheels) {
    const id = `wheel-${randomUUID()}`;
    const requests = uploadRequests({ name: wheel.fileName, content: wheel.content }, id).map(
      (request) => ({ ...request, area: 'wheels' as const }),
    );
    const refused = await exchange(
      kernel,
      requests as [(typeof requests)[number], ...typeof requests],
      UPLOAD_STALL_MS,
      (frame) => (frame.type === 'file_written' ? (frame.refused ?? '') : undefined),
    );
    if (refused !== '') {
      return {
        kind: 'failed',
        reason: `${wheel.fileName} could not be copied in: ${sandboxText(refused)}`,
      };
    }
  }
  const answer = await exchange(
    kernel,
    { type: 'install', id: `install-${randomUUID()}`, wheels: wheels.map((w) => w.fileName) },
    INSTALL_STALL_MS,
    (frame) => (frame.type === 'installed' ? frame : undefined),
  );
  if (answer.error !== undefined) return { kind: 'failed', reason: sandboxText(answer.error) };
  const asked = new Set(
    wheels.map((w) =>
      w.fileName
        .split('-')[0]
        ?.toLowerCase()
        .replace(/[-_.]+/g, '-'),
    ),
  );
  // Only names that were asked for: the sandbox cannot make up packages.
  const packages = answer.packages.filter((p) => asked.has(p.name));
  if (packages.length === 0) {
    throw new SandbotError('SANDBOX_PROTOCOL', 'the sandbox installed none of the wheels');
  }
  return { kind: 'installed', packages };
}
