import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { MemoryBlobStore } from '../src/blobs/memory-blob-store.ts';
import type { SandboxSettings } from '../src/core/config.ts';
import type { CellEvent } from '../src/core/cell-events.ts';
import { buildCellResult } from '../src/core/cell-result-builder.ts';
import { createDockerClient } from '../src/sandbox/docker-client.ts';
import { SandboxManager, removeContainers } from '../src/sandbox/sandbox-manager.ts';
import { percentile, round, timeMs } from './stats.ts';

/** Images of timed cells are kept as the bot keeps them: in a blob store. */
const cellBlobs = new MemoryBlobStore({ maxBlobBytes: 100 * 1024 * 1024, ttlMs: 60_000 });
const collectOutcome = (events: AsyncIterable<CellEvent>) => buildCellResult(events, cellBlobs);

const run = promisify(execFile);

export interface SandboxFigures {
  warm_cell_p50_ms: number;
  warm_cell_p95_ms: number;
  jupyter_cell_p50_ms: number;
  jupyter_cell_p95_ms: number;
  warm_vs_jupyter_ratio: number;
  new_session_first_cell_p50_ms: number;
  docker_run_cell_p50_ms: number;
  docker_run_vs_new_session_ratio: number;
  plot_cell_p50_ms: number;
  idle_session_memory_mb: number;
}

const PLOT = 'import matplotlib.pyplot as plt\nplt.plot([1, 3, 2, 4])\nplt.title("bench")';

export async function benchSandbox(
  image: string,
  log: (line: string) => void,
): Promise<SandboxFigures> {
  const docker = createDockerClient();
  const settings: SandboxSettings = {
    image,
    runtime: undefined,
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
  const workerId = `bench-${process.pid}`;
  const manager = new SandboxManager({
    docker,
    settings,
    workerId,
    sessionIdleMs: 10 * 60_000,
    logger: pino({ level: 'silent' }),
  });
  await manager.start();
  try {
    await manager.pool.whenFull(120_000);

    log('warm cell: 1+1 on a live session');
    const warm = manager.session('bench:warm');
    for (let i = 0; i < 20; i += 1) await collectOutcome(warm.execute('1+1'));
    const warmSamples: number[] = [];
    for (let i = 0; i < 300; i += 1) {
      warmSamples.push(await timeMs(() => collectOutcome(warm.execute('1+1'))));
    }

    log('plot cell');
    const plotSamples: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      plotSamples.push(await timeMs(() => collectOutcome(warm.execute(PLOT))));
    }

    log('idle session memory: a new session after a few cells and a plot');
    const idleSession = manager.session('bench:idle');
    for (const code of [
      'import pandas as pd',
      'df = pd.DataFrame({"a": range(100)})',
      'df.describe()',
      PLOT,
    ]) {
      await collectOutcome(idleSession.execute(code));
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const idle = await idleSession.status();
    const idleMb = round((idle.memoryBytes ?? Number.NaN) / (1024 * 1024), 1);

    log('new session first cell, pool warm');
    const firstSamples: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      await manager.pool.whenFull(120_000);
      const sandbox = manager.session(`bench:new-${i}`);
      firstSamples.push(await timeMs(() => collectOutcome(sandbox.execute('1+1'))));
      await manager.destroySession(`bench:new-${i}`);
    }

    log('anchor: plain docker run with the imports and the cell');
    const dockerRunSamples: number[] = [];
    const script = 'import numpy, pandas, matplotlib.pyplot; print(1+1)';
    for (let i = 0; i < 5; i += 1) {
      dockerRunSamples.push(
        await timeMs(() =>
          run('docker', ['run', '--rm', '--network', 'none', image, 'python3', '-c', script]),
        ),
      );
    }

    log('anchor: jupyter_client to ipykernel in the same image');
    const anchorScript = await readFile(new URL('./jupyter_anchor.py', import.meta.url), 'utf8');
    const { stdout } = await run('docker', [
      'run',
      '--rm',
      '--network',
      'none',
      '-e',
      'HOME=/tmp',
      image,
      'python3',
      '-c',
      anchorScript,
      '300',
    ]);
    const jupyter = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
      p50: number;
      p95: number;
    };

    const warmP50 = percentile(warmSamples, 50);
    const firstP50 = percentile(firstSamples, 50);
    const dockerRunP50 = percentile(dockerRunSamples, 50);
    return {
      warm_cell_p50_ms: warmP50,
      warm_cell_p95_ms: percentile(warmSamples, 95),
      jupyter_cell_p50_ms: round(jupyter.p50),
      jupyter_cell_p95_ms: round(jupyter.p95),
      warm_vs_jupyter_ratio: round(warmP50 / jupyter.p50),
      new_session_first_cell_p50_ms: firstP50,
      docker_run_cell_p50_ms: dockerRunP50,
      docker_run_vs_new_session_ratio: round(dockerRunP50 / firstP50),
      plot_cell_p50_ms: percentile(plotSamples, 50),
      idle_session_memory_mb: idleMb,
    };
  } finally {
    await manager.close();
    await removeContainers(docker, { 'sandbot.worker': workerId });
  }
}
