import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { MemoryBlobStore } from '../src/blobs/memory-blob-store.ts';
import type { SandboxSettings } from '../src/core/config.ts';
import { createDockerClient, type Docker } from '../src/sandbox/docker-client.ts';
import { readSingleFile } from '../src/sandbox/file-transfer.ts';
import { KernelContainer } from '../src/sandbox/kernel-container.ts';
import type { DoneFrame } from '../src/sandbox/protocol.ts';
import { SandboxManager, removeContainers } from '../src/sandbox/sandbox-manager.ts';
import {
  IDLE_CELLS,
  IDLE_CELLS_WITHOUT_PLOT,
  measureKeyFigures,
  PLOT,
  PLOT_ROUNDS,
  sandboxBenchSettings,
} from './sandbox-key-figures.ts';
import { idleSessionBytes } from './idle-memory.ts';
import { bareIpykernelIdleMb, dataStackFloorIdleMb } from './idle-memory-anchors.ts';
import { percentile, round, timeMs } from './stats.ts';

/** Images of timed cells are kept as the bot keeps them: in a blob store. */
const cellBlobs = new MemoryBlobStore({ maxBlobBytes: 100 * 1024 * 1024, ttlMs: 60_000 });
const run = promisify(execFile);
const MiB = 1024 * 1024;

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
  jupyter_plot_p50_ms: number;
  plot_vs_jupyter_plot_ratio: number;
  idle_session_memory_mb: number;
  idle_session_no_plot_memory_mb: number;
  bare_ipykernel_idle_mb: number;
  idle_session_vs_bare_ipykernel_ratio: number;
  idle_session_no_plot_vs_bare_ipykernel_ratio: number;
  data_stack_floor_idle_mb: number;
  data_stack_floor_no_plot_idle_mb: number;
  idle_session_vs_data_stack_floor_ratio: number;
  idle_session_no_plot_vs_data_stack_floor_ratio: number;
  copy_out_ms: number;
  archive_copy_out_ms: number;
  copy_out_vs_archive_ratio: number;
}

const COPY_FILES = 20;
const COPY_FILE_BYTES = 1024 * 1024;

/**
 * Copy-out of 20 files of 1 MB from one kernel, p50 of several rounds: through the runner
 * (how files leave now: read as the sandbox user, streamed in frames) beside Docker's archive
 * API on the same files (how they left before issue 14: read as root, by name).
 */
export async function benchCopyOut(
  docker: Docker,
  settings: SandboxSettings,
  workerId: string,
): Promise<{ runnerMs: number; archiveMs: number }> {
  const kernel = await KernelContainer.create({
    docker,
    limits: settings,
    labels: { 'sandbot.worker': workerId },
    idleExitS: 300,
    logger: pino({ level: 'silent' }),
  });
  try {
    const done = await new Promise<DoneFrame>((resolve) => {
      kernel.subscribe('bench-files', (frame) => {
        if (frame.type === 'done') resolve(frame);
      });
      kernel.send({
        type: 'execute',
        id: 'bench-files',
        code: `import os\nfor i in range(${COPY_FILES}):\n    open("/mnt/data/f%02d.bin" % i, "wb").write(os.urandom(${COPY_FILE_BYTES}))`,
        outputLimitBytes: 1024,
      });
    });
    const paths = done.files.map((f) => f.path);
    const viaRunner = async () => {
      for (const path of paths) {
        const file = await kernel.getFile(path, settings.maxFileBytes);
        if (file.kind !== 'file') throw new Error(`${path} was not copied: ${file.reason}`);
      }
    };
    const viaArchive = async () => {
      for (const path of paths) {
        const archive = await kernel.container.getArchive({ path: `/mnt/data/${path}` });
        const file = await readSingleFile(archive, path, settings.maxFileBytes);
        if (file.kind !== 'file') throw new Error(`${path} was not copied: ${file.reason}`);
      }
    };
    await viaRunner();
    await viaArchive();
    const runnerSamples: number[] = [];
    const archiveSamples: number[] = [];
    for (let round = 0; round < 7; round += 1) {
      runnerSamples.push(await timeMs(viaRunner));
      archiveSamples.push(await timeMs(viaArchive));
    }
    return { runnerMs: percentile(runnerSamples, 50), archiveMs: percentile(archiveSamples, 50) };
  } finally {
    await kernel.destroy();
  }
}

/** `runtime`: SANDBOX_RUNTIME from the settings; undefined is Docker's default (runc). */
export async function benchSandbox(
  image: string,
  log: (line: string) => void,
  runtime?: string,
): Promise<SandboxFigures> {
  const docker = createDockerClient();
  const settings = sandboxBenchSettings(image, runtime);
  // The anchors run in the same runtime as the kernels they stand beside.
  const runtimeArgs = runtime === undefined ? [] : ['--runtime', runtime];
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

    const [key] = await measureKeyFigures([manager], docker, cellBlobs, log);
    if (key === undefined) throw new Error('no key figures');
    const warmSamples = key.warmMs;
    const plotSamples = key.plotMs;
    const firstSamples = key.firstCellMs;
    const idleMb = key.idleMemoryMb;

    // matplotlib is imported by a thread's first plot (runner/data_stack.py), so a thread that
    // never plots costs less than the plotting one above; both stand beside a bare ipykernel.
    log('idle session memory: a new session after the same cells without the plot');
    const noPlotMb = round(
      (await idleSessionBytes(
        docker,
        manager.session('bench:idle-no-plot'),
        IDLE_CELLS_WITHOUT_PLOT,
        cellBlobs,
      )) / MiB,
      1,
    );
    log('anchor: a bare ipykernel left idle in the same image');
    const ipykernelMb = await bareIpykernelIdleMb(docker, image, runtime);
    log('floor: the same cells as a plain python3 script left idle (no kernel, no IPython)');
    const floorMb = await dataStackFloorIdleMb(docker, image, runtime, IDLE_CELLS);
    const floorNoPlotMb = await dataStackFloorIdleMb(
      docker,
      image,
      runtime,
      IDLE_CELLS_WITHOUT_PLOT,
    );

    log('copy-out: 20 files of 1 MB through the runner and through the archive API');
    const copyOut = await benchCopyOut(docker, settings, workerId);

    log('anchor: plain docker run with the imports and the cell');
    const dockerRunSamples: number[] = [];
    const script = 'import numpy, pandas, matplotlib.pyplot; print(1+1)';
    for (let i = 0; i < 5; i += 1) {
      dockerRunSamples.push(
        await timeMs(() =>
          run('docker', [
            'run',
            '--rm',
            '--network',
            'none',
            ...runtimeArgs,
            image,
            'python3',
            '-c',
            script,
          ]),
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
      ...runtimeArgs,
      '-e',
      'HOME=/tmp',
      image,
      'python3',
      '-c',
      anchorScript,
      '300',
      String(PLOT_ROUNDS),
      PLOT,
    ]);
    const jupyter = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
      p50: number;
      p95: number;
      plot_p50: number;
    };

    const warmP50 = percentile(warmSamples, 50);
    const firstP50 = percentile(firstSamples, 50);
    const dockerRunP50 = percentile(dockerRunSamples, 50);
    const plotP50 = percentile(plotSamples, 50);
    return {
      warm_cell_p50_ms: warmP50,
      warm_cell_p95_ms: percentile(warmSamples, 95),
      jupyter_cell_p50_ms: round(jupyter.p50),
      jupyter_cell_p95_ms: round(jupyter.p95),
      warm_vs_jupyter_ratio: round(warmP50 / jupyter.p50),
      new_session_first_cell_p50_ms: firstP50,
      docker_run_cell_p50_ms: dockerRunP50,
      docker_run_vs_new_session_ratio: round(dockerRunP50 / firstP50),
      plot_cell_p50_ms: plotP50,
      jupyter_plot_p50_ms: round(jupyter.plot_p50),
      plot_vs_jupyter_plot_ratio: round(plotP50 / jupyter.plot_p50),
      idle_session_memory_mb: idleMb,
      idle_session_no_plot_memory_mb: noPlotMb,
      bare_ipykernel_idle_mb: ipykernelMb,
      idle_session_vs_bare_ipykernel_ratio: round(idleMb / ipykernelMb),
      idle_session_no_plot_vs_bare_ipykernel_ratio: round(noPlotMb / ipykernelMb),
      data_stack_floor_idle_mb: floorMb,
      data_stack_floor_no_plot_idle_mb: floorNoPlotMb,
      idle_session_vs_data_stack_floor_ratio: round(idleMb / floorMb),
      idle_session_no_plot_vs_data_stack_floor_ratio: round(noPlotMb / floorNoPlotMb),
      copy_out_ms: copyOut.runnerMs,
      archive_copy_out_ms: copyOut.archiveMs,
      copy_out_vs_archive_ratio: round(copyOut.runnerMs / copyOut.archiveMs),
    };
  } finally {
    await manager.close();
    await removeContainers(docker, { 'sandbot.worker': workerId });
  }
}
