import type { MemoryBlobStore } from '../src/blobs/memory-blob-store.ts';
import type { CellEvent } from '../src/core/cell-events.ts';
import type { SandboxSettings } from '../src/core/config.ts';
import { buildCellResult } from '../src/core/cell-result-builder.ts';
import type { Docker } from '../src/sandbox/docker-client.ts';
import type { SandboxManager } from '../src/sandbox/sandbox-manager.ts';
import { hostMemoryBytes } from './host-memory.ts';
import { round, timeMs } from './stats.ts';

/** The sandbox benchmarks' settings: the defaults a deployment starts from, in `runtime`. */
export function sandboxBenchSettings(image: string, runtime: string | undefined): SandboxSettings {
  return {
    image,
    runtime,
    memoryMb: 1024,
    cpus: 1,
    diskMb: 256,
    tmpMb: 64,
    pidsLimit: 256,
    cellTimeoutMs: 60_000,
    outputLimitBytes: 1024 * 1024,
    maxFileBytes: 50 * 1024 * 1024,
    maxFiles: 20,
    poolSize: 2,
  };
}

export const PLOT = 'import matplotlib.pyplot as plt\nplt.plot([1, 3, 2, 4])\nplt.title("bench")';
/** Plot cells timed here and, as the anchor, in Jupyter (the same code, the same image). */
export const PLOT_ROUNDS = 30;

/** Raw samples of the figures every runtime is compared on. */
export interface KeyFigureSamples {
  readonly warmMs: number[];
  readonly plotMs: number[];
  readonly firstCellMs: number[];
  /** What an idle session costs the host, in MB (see host-memory.ts). */
  readonly idleMemoryMb: number;
}

/**
 * The sandbox's key figures on a started manager whose pool is full: a warm cell, a plot, an
 * idle session's memory, and a new session's first cell with the pool warm. Shared by the
 * sandbox benchmark and the runtime comparison, so runc and gVisor are measured alike.
 */
export async function measureKeyFigures(
  manager: SandboxManager,
  docker: Docker,
  blobs: MemoryBlobStore,
  log: (line: string) => void,
): Promise<KeyFigureSamples> {
  const collect = (events: AsyncIterable<CellEvent>) => buildCellResult(events, blobs);
  log('warm cell: 1+1 on a live session');
  const warm = manager.session('bench:warm');
  for (let i = 0; i < 20; i += 1) await collect(warm.execute('1+1'));
  const warmMs: number[] = [];
  for (let i = 0; i < 300; i += 1) warmMs.push(await timeMs(() => collect(warm.execute('1+1'))));

  log('plot cell');
  const plotMs: number[] = [];
  for (let i = 0; i < PLOT_ROUNDS; i += 1) {
    plotMs.push(await timeMs(() => collect(warm.execute(PLOT))));
  }

  log('idle session memory: a new session after a few cells and a plot');
  const idleSession = manager.session('bench:idle');
  for (const code of [
    'import pandas as pd',
    'df = pd.DataFrame({"a": range(100)})',
    'df.describe()',
    PLOT,
  ]) {
    await collect(idleSession.execute(code));
  }
  // Docker names a container's host after its id: how the bench finds the session's cgroup.
  const hostname = await collect(
    idleSession.execute('import socket\nprint(socket.gethostname(), end="")'),
  );
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const fromHost = await hostMemoryBytes(docker, hostname.stdout);
  const idleBytes = fromHost ?? (await idleSession.status()).memoryBytes ?? Number.NaN;
  const idleMemoryMb = round(idleBytes / (1024 * 1024), 1);

  log('new session first cell, pool warm');
  const firstCellMs: number[] = [];
  for (let i = 0; i < 8; i += 1) {
    await manager.pool.whenFull(120_000);
    const sandbox = manager.session(`bench:new-${i}`);
    firstCellMs.push(await timeMs(() => collect(sandbox.execute('1+1'))));
    await manager.destroySession(`bench:new-${i}`);
  }
  return { warmMs, plotMs, firstCellMs, idleMemoryMb };
}
