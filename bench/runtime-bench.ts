import { pino } from 'pino';
import { MemoryBlobStore } from '../src/blobs/memory-blob-store.ts';
import { createDockerClient } from '../src/sandbox/docker-client.ts';
import { SandboxManager, removeContainers } from '../src/sandbox/sandbox-manager.ts';
import {
  measureKeyFigures,
  sandboxBenchSettings,
  type KeyFigureSamples,
} from './sandbox-key-figures.ts';
import { percentile, round } from './stats.ts';

/** The sandbox's key figures under runc and gVisor, side by side, with gVisor's ratio. */
export interface RuntimeFigures {
  runc_warm_cell_p50_ms: number;
  gvisor_warm_cell_p50_ms: number;
  gvisor_vs_runc_warm_cell_ratio: number;
  runc_first_cell_p50_ms: number;
  gvisor_first_cell_p50_ms: number;
  gvisor_vs_runc_first_cell_ratio: number;
  runc_plot_cell_p50_ms: number;
  gvisor_plot_cell_p50_ms: number;
  gvisor_vs_runc_plot_ratio: number;
  runc_idle_session_memory_mb: number;
  gvisor_idle_session_memory_mb: number;
  gvisor_vs_runc_idle_memory_ratio: number;
}

const blobs = new MemoryBlobStore({ maxBlobBytes: 100 * 1024 * 1024, ttlMs: 60_000 });

/**
 * Runs the sandbox's key figures (sandbox-key-figures.ts) under runc and gVisor (`runsc`)
 * side by side, cell by cell in turn, where Docker has runsc registered (`docker info`,
 * Runtimes). Without it, says so and reports nothing.
 */
export async function benchRuntimes(
  image: string,
  log: (line: string) => void,
): Promise<RuntimeFigures | Record<string, never>> {
  const docker = createDockerClient();
  const info = (await docker.info()) as { Runtimes?: Record<string, unknown> };
  if (info.Runtimes?.runsc === undefined) {
    log('runtimes: gVisor (runsc) is not registered with Docker here; runc only, no comparison');
    return {};
  }
  log('runtimes: key figures under runc and gVisor (runsc), interleaved');
  const [runc, gvisor] = await keyFiguresUnder(image, [undefined, 'runsc'], log);
  if (runc === undefined || gvisor === undefined) throw new Error('no key figures');
  const pair = (pick: (s: KeyFigureSamples) => number) => {
    const [r, g] = [pick(runc), pick(gvisor)];
    return [r, g, round(g / r)] as const;
  };
  const [rWarm, gWarm, warmRatio] = pair((s) => percentile(s.warmMs, 50));
  const [rFirst, gFirst, firstRatio] = pair((s) => percentile(s.firstCellMs, 50));
  const [rPlot, gPlot, plotRatio] = pair((s) => percentile(s.plotMs, 50));
  const [rIdle, gIdle, idleRatio] = pair((s) => s.idleMemoryMb);
  return {
    runc_warm_cell_p50_ms: rWarm,
    gvisor_warm_cell_p50_ms: gWarm,
    gvisor_vs_runc_warm_cell_ratio: warmRatio,
    runc_first_cell_p50_ms: rFirst,
    gvisor_first_cell_p50_ms: gFirst,
    gvisor_vs_runc_first_cell_ratio: firstRatio,
    runc_plot_cell_p50_ms: rPlot,
    gvisor_plot_cell_p50_ms: gPlot,
    gvisor_vs_runc_plot_ratio: plotRatio,
    runc_idle_session_memory_mb: rIdle,
    gvisor_idle_session_memory_mb: gIdle,
    gvisor_vs_runc_idle_memory_ratio: idleRatio,
  };
}

/** One manager per runtime, started together and measured cell by cell in turn. */
async function keyFiguresUnder(
  image: string,
  runtimes: readonly (string | undefined)[],
  log: (line: string) => void,
): Promise<KeyFigureSamples[]> {
  const docker = createDockerClient();
  const workerIds = runtimes.map((r) => `bench-runtime-${process.pid}-${r ?? 'runc'}`);
  const managers = runtimes.map(
    (runtime, k) =>
      new SandboxManager({
        docker,
        settings: sandboxBenchSettings(image, runtime),
        workerId: workerIds[k] ?? 'bench-runtime',
        sessionIdleMs: 10 * 60_000,
        logger: pino({ level: 'silent' }),
      }),
  );
  try {
    for (const manager of managers) await manager.start();
    for (const manager of managers) await manager.pool.whenFull(120_000);
    return await measureKeyFigures(managers, docker, blobs, log);
  } finally {
    for (const manager of managers) await manager.close();
    for (const workerId of workerIds)
      await removeContainers(docker, { 'sandbot.worker': workerId });
  }
}
