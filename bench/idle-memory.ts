import type { MemoryBlobStore } from '../src/blobs/memory-blob-store.ts';
import { buildCellResult } from '../src/core/cell-result-builder.ts';
import type { Docker } from '../src/sandbox/docker-client.ts';
import type { Sandbox } from '../src/sandbox/sandbox.ts';
import { hostMemoryBytes } from './host-memory.ts';

/** The runner hands freed memory back 1 s after a request (IDLE_TRIM_S); read after that. */
const AFTER_TRIM_MS = 1500;

/** What a session's container costs the host: its cgroup (host-memory.ts), else Docker's stats. */
export async function sessionBytes(docker: Docker, sandbox: Sandbox): Promise<number | undefined> {
  const id = await sandbox.withKernel((kernel) => Promise.resolve(kernel.container.id));
  return (await hostMemoryBytes(docker, id)) ?? (await sandbox.status()).memoryBytes;
}

/** A session's memory once idle after `cells`, in bytes (NaN when it cannot be read). */
export async function idleSessionBytes(
  docker: Docker,
  sandbox: Sandbox,
  cells: readonly string[],
  blobs: MemoryBlobStore,
): Promise<number> {
  for (const code of cells) await buildCellResult(sandbox.execute(code), blobs);
  await new Promise((resolve) => setTimeout(resolve, AFTER_TRIM_MS));
  return (await sessionBytes(docker, sandbox)) ?? Number.NaN;
}
