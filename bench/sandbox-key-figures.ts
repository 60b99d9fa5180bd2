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
/** The cells an idle session has run when its memory is read: a DataFrame, then a plot. */
export const IDLE_CELLS_WITHOUT_PLOT: readonly string[] = [
  'import pandas as pd',
  'df = pd.DataFrame({"a": range(100)})',
  'df.describe()',
];
export const IDLE_CELLS: readonly string[] = [...IDLE_CELLS_WITHOUT_PLOT, PLOT];
/**
 * New sessions timed per runtime: each waits for a full pool and is then a kernel's first
 * cell while the pool refills behind it, so single samples vary by milliseconds; 8 left the
 * gVisor/runc ratio moving between 1.1 and 2.0 from run to run.
 */
const FIRST_CELL_ROUNDS = 16;
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
 * The sandbox's key figures on started managers whose pools are full: a warm cell, a plot, an
 * idle session's memory, and a new session's first cell with the pool warm. Shared by the
 * sandbox benchmark (one manager) and the runtime comparison (runc and gVisor), which are
 * measured interleaved, cell by cell, so a busy moment on the host hits both alike.
 */
export async function measureKeyFigures(
  managers: readonly SandboxManager[],
  docker: Docker,
  blobs: MemoryBlobStore,
  log: (line: string) => void,
): Promise<KeyFigureSamples[]> {
  const collect = (events: AsyncIterable<CellEvent>) => buildCellResult(events, blobs);
  /** Runs `task` once per manager, the order turning each round. */
  const eachInTurn = async (round: number, task: (index: number) => Promise<void>) => {
    for (let k = 0; k < managers.length; k += 1) await task((round + k) % managers.length);
  };
  const samples = managers.map(() => ({
    warmMs: [] as number[],
    plotMs: [] as number[],
    firstCellMs: [] as number[],
  }));
  const at = (index: number) => {
    const manager = managers[index];
    const sample = samples[index];
    if (manager === undefined || sample === undefined) throw new Error('no such manager');
    return { manager, sample };
  };

  log('warm cell: 1+1 on a live session');
  const warm = managers.map((m) => m.session('bench:warm'));
  for (const session of warm) for (let i = 0; i < 20; i += 1) await collect(session.execute('1+1'));
  for (let i = 0; i < 300; i += 1) {
    await eachInTurn(i, async (k) => {
      const session = warm[k];
      if (session !== undefined) {
        at(k).sample.warmMs.push(await timeMs(() => collect(session.execute('1+1'))));
      }
    });
  }

  log('plot cell');
  for (let i = 0; i < PLOT_ROUNDS; i += 1) {
    await eachInTurn(i, async (k) => {
      const session = warm[k];
      if (session !== undefined) {
        at(k).sample.plotMs.push(await timeMs(() => collect(session.execute(PLOT))));
      }
    });
  }

  log('idle session memory: a new session after a few cells and a plot');
  const idleMemoryMb: number[] = [];
  for (const manager of managers)
    idleMemoryMb.push(await idleSessionMemoryMb(manager, docker, collect));

  log('new session first cell, pool warm');
  for (let i = 0; i < FIRST_CELL_ROUNDS; i += 1) {
    await eachInTurn(i, async (k) => {
      const { manager, sample } = at(k);
      await manager.pool.whenFull(120_000);
      const sandbox = manager.session(`bench:new-${i}`);
      sample.firstCellMs.push(await timeMs(() => collect(sandbox.execute('1+1'))));
      await manager.destroySession(`bench:new-${i}`);
    });
  }
  return samples.map((sample, k) => ({ ...sample, idleMemoryMb: idleMemoryMb[k] ?? Number.NaN }));
}

/** What an idle session costs after a few cells and a plot, in MB (host-memory.ts). */
async function idleSessionMemoryMb(
  manager: SandboxManager,
  docker: Docker,
  collect: (events: AsyncIterable<CellEvent>) => Promise<{ stdout: string }>,
): Promise<number> {
  const idleSession = manager.session('bench:idle');
  for (const code of IDLE_CELLS) {
    await collect(idleSession.execute(code));
  }
  // Docker names a container's host after its id: how the bench finds the session's cgroup.
  const hostname = await collect(
    idleSession.execute('import socket\nprint(socket.gethostname(), end="")'),
  );
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const fromHost = await hostMemoryBytes(docker, hostname.stdout);
  const idleBytes = fromHost ?? (await idleSession.status()).memoryBytes ?? Number.NaN;
  return round(idleBytes / (1024 * 1024), 1);
}
