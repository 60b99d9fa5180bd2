import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { MemoryBlobStore } from '../src/blobs/memory-blob-store.ts';
import type { CellEvent } from '../src/core/cell-events.ts';
import { buildCellResult } from '../src/core/cell-result-builder.ts';
import { createDockerClient } from '../src/sandbox/docker-client.ts';
import type { Sandbox } from '../src/sandbox/sandbox.ts';
import { SandboxManager, removeContainers } from '../src/sandbox/sandbox-manager.ts';
import { sessionBytes } from './idle-memory.ts';
import { bareIpykernelIdleMb } from './idle-memory-anchors.ts';
import { sandboxBenchSettings } from './sandbox-key-figures.ts';
import { percentile, round, timeMs } from './stats.ts';

const run = promisify(execFile);
const blobs = new MemoryBlobStore({ maxBlobBytes: 100 * 1024 * 1024, ttlMs: 60_000 });
const collect = (events: AsyncIterable<CellEvent>) => buildCellResult(events, blobs);
const MiB = 1024 * 1024;

export interface CapacityFigures {
  capacity_sessions: number;
  capacity_failed_sessions: number;
  capacity_host_used_per_session_mb: number;
  capacity_session_memory_p50_mb: number;
  capacity_session_memory_max_mb: number;
  bare_ipykernel_idle_mb: number;
  capacity_session_vs_bare_ipykernel_ratio: number;
  capacity_warm_cell_quiet_p50_ms: number;
  capacity_warm_cell_p50_ms: number;
  capacity_warm_cell_p95_ms: number;
  capacity_warm_cell_vs_quiet_ratio: number;
  first_plot_on_idle_session_p50_ms: number;
  second_plot_p50_ms: number;
  first_plot_vs_second_ratio: number;
  idle_thread_checkpointed_kb: number;
  idle_thread_live_vs_checkpointed_ratio: number;
}

export interface CapacityOptions {
  readonly image: string;
  /** Idle sessions to open; `--sessions N` or SANDBOT_BENCH_SESSIONS, 100 by default. */
  readonly sessions: number;
  readonly runtime?: string | undefined;
  readonly log: (line: string) => void;
}

/** The state every idle thread keeps: a modest CSV's worth, 10,000 hourly readings of 3 columns. */
const ROWS = 10_000;
const DATAFRAME_CELL = [
  'import numpy as np, pandas as pd',
  'rng = np.random.default_rng(19)',
  `df = pd.DataFrame({"time": pd.date_range("2026-01-01", periods=${ROWS}, freq="h"),`,
  `                   "value": rng.random(${ROWS}), "site": rng.choice(list("abcd"), ${ROWS})})`,
  'df.describe()',
].join('\n');
const CHECK_CELL = 'print(len(df), end="")';
const PLOT = 'import matplotlib.pyplot as plt\nplt.plot([1, 3, 2, 4])\nplt.title("bench")';
/** Two sessions spin the CPU (their cell is interrupted when the timed cells are done). */
const SPIN_CELL = 'while True:\n    pass';
const CREATE_CONCURRENCY = 4;
const WARM_CELLS = 100;
const PLOT_SESSIONS = 5;

/** `--sessions N`, else SANDBOT_BENCH_SESSIONS, else 100. */
export function sessionsFromArgs(argv: readonly string[], env: NodeJS.ProcessEnv): number {
  const index = argv.indexOf('--sessions');
  const raw = index === -1 ? env.SANDBOT_BENCH_SESSIONS?.trim() : argv[index + 1];
  const sessions = Number(raw === undefined || raw === '' ? 100 : raw);
  if (!Number.isInteger(sessions) || sessions < 4) {
    throw new Error(`--sessions must be a whole number of at least 4, not ${String(raw)}`);
  }
  return sessions;
}

/** Memory the host uses (MemTotal - MemAvailable), in bytes. */
async function hostUsedBytes(): Promise<number> {
  const text = await readFile('/proc/meminfo', 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return (kb('MemTotal') - kb('MemAvailable')) * 1024;
}

async function inBatches<T>(
  items: readonly T[],
  size: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  for (let start = 0; start < items.length; start += size) {
    await Promise.all(items.slice(start, start + size).map(task));
  }
}

/** Ok when the cell ran and printed what was expected (if anything was). */
async function runs(sandbox: Sandbox, code: string, expected?: string): Promise<boolean> {
  try {
    const result = await collect(sandbox.execute(code));
    return result.status === 'ok' && (expected === undefined || result.stdout === expected);
  } catch {
    return false;
  }
}

/**
 * The size a checkpoint of one idle thread's namespace takes in the store: the runner's own
 * save (checkpoint_save.py: C pickler, dill where needed) of the DataFrame cell's variables, in
 * a throwaway container of the same image (no network, read-only).
 */
async function checkpointedBytes(image: string): Promise<number> {
  const script = [
    'import dill, os, sys, tempfile',
    'sys.path.insert(0, "/opt/sandbot")',
    'from runner.checkpoint_save import save_namespace',
    'namespace = {}',
    `exec(${JSON.stringify(DATAFRAME_CELL)}, namespace)`,
    'path = os.path.join(tempfile.mkdtemp(), "checkpoint")',
    'manifest = save_namespace(dill, namespace, {"__builtins__"}, path, 1 << 30)',
    'print(os.path.getsize(path))',
  ].join('\n');
  const { stdout } = await run('docker', [
    'run',
    '--rm',
    '--network',
    'none',
    '--read-only',
    '--tmpfs',
    '/tmp',
    image,
    'python3',
    '-c',
    script,
  ]);
  return Number(stdout.trim().split('\n').pop());
}

/**
 * Density: N idle sessions with a DataFrame each on one worker. Memory per session from the
 * host's view (used memory before and after) and from each container's cgroup (anonymous
 * memory plus tmpfs, as idle_session_memory_mb); a warm cell on a random idle session while
 * two others spin the CPU, beside the same cell with nothing spinning; the first plot of an
 * idle session (matplotlib is imported on first use) beside the second; and what an idle
 * thread costs once its kernel is reaped behind a checkpoint.
 */
export async function benchCapacity(options: CapacityOptions): Promise<CapacityFigures> {
  const { image, sessions, log } = options;
  const docker = createDockerClient();
  const workerId = `bench-capacity-${process.pid}`;
  const manager = new SandboxManager({
    docker,
    settings: sandboxBenchSettings(image, options.runtime),
    workerId,
    // Longer than the run: no session may be reaped while the others are opened.
    sessionIdleMs: 4 * 60 * 60_000,
    logger: pino({ level: 'silent' }),
  });
  await manager.start();
  try {
    await manager.pool.whenFull(120_000);
    const usedBefore = await hostUsedBytes();

    log(`capacity: opening ${sessions} idle sessions with a DataFrame each`);
    const keys = Array.from({ length: sessions }, (_, i) => `bench:capacity-${i}`);
    const failed = new Set<string>();
    await inBatches(keys, CREATE_CONCURRENCY, async (key) => {
      if (!(await runs(manager.session(key), DATAFRAME_CELL))) failed.add(key);
    });
    // Past the runner's idle trim (1 s after a request).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const usedAfter = await hostUsedBytes();

    log('capacity: memory of each session (cgroup)');
    const sessionMb: number[] = [];
    await inBatches(keys, 10, async (key) => {
      const bytes = await sessionBytes(docker, manager.session(key)).catch(() => undefined);
      if (bytes === undefined) failed.add(key);
      else sessionMb.push(bytes / MiB);
    });

    log('capacity: anchor, a bare ipykernel left idle in the same image');
    const ipykernelMb = await bareIpykernelIdleMb(docker, image, options.runtime);

    const live = keys.filter((key) => !failed.has(key));
    const timedCells = async (exclude: readonly string[]) => {
      const candidates = live.filter((key) => !exclude.includes(key));
      const samples: number[] = [];
      for (let i = 0; i < WARM_CELLS && candidates.length > 0; i += 1) {
        const key = candidates[Math.floor(Math.random() * candidates.length)] ?? '';
        const sandbox = manager.session(key);
        samples.push(await timeMs(() => collect(sandbox.execute('1+1'))));
      }
      return samples;
    };

    log('capacity: warm cell on a random idle session, nothing spinning (anchor)');
    const quiet = await timedCells([]);

    log('capacity: warm cell on a random idle session while two others spin the CPU');
    const spinners = live.slice(0, 2);
    const stop = new AbortController();
    const spinning = spinners.map((key) =>
      collect(manager.session(key).execute(SPIN_CELL, { signal: stop.signal })),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const loaded = await timedCells(spinners);
    stop.abort();
    await Promise.allSettled(spinning);

    log('capacity: first plot on an idle session beside the second');
    const firstPlots: number[] = [];
    const secondPlots: number[] = [];
    for (const key of live.slice(2, 2 + PLOT_SESSIONS)) {
      const sandbox = manager.session(key);
      firstPlots.push(await timeMs(() => collect(sandbox.execute(PLOT))));
      secondPlots.push(await timeMs(() => collect(sandbox.execute(PLOT))));
    }

    log('capacity: every session still holds its DataFrame');
    await inBatches(keys, CREATE_CONCURRENCY, async (key) => {
      if (!(await runs(manager.session(key), CHECK_CELL, String(ROWS)))) failed.add(key);
    });

    log('capacity: closing the sessions');
    await manager.close();
    await removeContainers(docker, { 'sandbot.worker': workerId });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const usedAfterClose = await hostUsedBytes();
    // Other work on the host moves its used memory too: the mean of the rise when the sessions
    // opened and the fall when they closed.
    const hostPerSessionMb = (2 * usedAfter - usedBefore - usedAfterClose) / 2 / MiB / sessions;

    log('capacity: the checkpoint of one idle thread (throwaway container)');
    const checkpointKb = (await checkpointedBytes(image)) / 1024;

    const sessionP50Mb = percentile(sessionMb, 50);
    const quietP50 = percentile(quiet, 50);
    const loadedP50 = percentile(loaded, 50);
    const firstPlotP50 = percentile(firstPlots, 50);
    const secondPlotP50 = percentile(secondPlots, 50);
    if (failed.size > 0) log(`capacity: FAILED sessions: ${[...failed].join(', ')}`);
    return {
      capacity_sessions: sessions,
      capacity_failed_sessions: failed.size,
      capacity_host_used_per_session_mb: round(hostPerSessionMb, 1),
      capacity_session_memory_p50_mb: round(sessionP50Mb, 1),
      capacity_session_memory_max_mb: round(Math.max(...sessionMb), 1),
      bare_ipykernel_idle_mb: ipykernelMb,
      capacity_session_vs_bare_ipykernel_ratio: round(sessionP50Mb / ipykernelMb),
      capacity_warm_cell_quiet_p50_ms: quietP50,
      capacity_warm_cell_p50_ms: loadedP50,
      capacity_warm_cell_p95_ms: percentile(loaded, 95),
      capacity_warm_cell_vs_quiet_ratio: round(loadedP50 / quietP50),
      first_plot_on_idle_session_p50_ms: firstPlotP50,
      second_plot_p50_ms: secondPlotP50,
      first_plot_vs_second_ratio: round(firstPlotP50 / secondPlotP50),
      idle_thread_checkpointed_kb: round(checkpointKb, 1),
      idle_thread_live_vs_checkpointed_ratio: round((sessionP50Mb * 1024) / checkpointKb),
    };
  } finally {
    await manager.close();
    await removeContainers(docker, { 'sandbot.worker': workerId });
  }
}
