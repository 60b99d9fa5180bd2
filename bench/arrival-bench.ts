import { availableParallelism } from 'node:os';
import type { Docker } from '../src/sandbox/docker-client.ts';
import { CgroupUsage } from '../src/sandbox/cgroup-usage.ts';
import { benchSettings, drain, QueueFixture } from './queue-fixture.ts';
import { percentile, round, timeMs } from './stats.ts';

export interface ArrivalFigures {
  steady_first_cell_p50_ms: number;
  steady_first_cell_p95_ms: number;
  steady_fixed_pool_first_cell_p95_ms: number;
  steady_vs_fixed_pool_p95_ratio: number;
  burst_first_cell_p50_ms: number;
  burst_first_cell_p95_ms: number;
  burst_fixed_pool_first_cell_p50_ms: number;
  burst_fixed_pool_first_cell_p95_ms: number;
  burst_vs_fixed_pool_p95_ratio: number;
  /** CPU one kernel start costs inside its container (cgroup, so a floor), p50 of the burst's. */
  kernel_start_cpu_ms_p50: number;
  /**
   * The burst's cold starts (threads beyond the resting kernels) times that, over the host's
   * CPUs: how long the starts take even perfectly parallel, the floor under burst p95.
   */
  burst_cpu_floor_ms: number;
  /** New sessions a worker took with an empty pool while the other had a kernel ready. */
  burst_cold_beside_ready: number;
  steady_cold_beside_ready: number;
  /** First cells that failed, all four runs together: any is a finding. */
  arrivals_failed: number;
}

export interface ArrivalOptions {
  readonly image: string;
  readonly redisUrl: string;
  /** SANDBOX_RUNTIME; undefined: Docker's default (runc). */
  readonly runtime: string | undefined;
  /** SANDBOX_POOL_SIZE: the resting size of both pools. */
  readonly poolSize: number;
  /** SANDBOX_POOL_MAX of the adaptive pool (the fixed pool has none). */
  readonly poolMax: number;
  readonly log: (line: string) => void;
}

/** One new thread a second for 30 s: the pool should keep up, every first cell warm. */
const STEADY = { count: 30, everyMs: 1000 };
/** Twenty new threads within one second, from a resting pool: nothing foresees it. */
const BURST = { count: 20, everyMs: 50 };

interface ArrivalRun {
  readonly firstCellMs: number[];
  /** First cells that did not end `ok` (named in the log). */
  readonly failed: number;
  /** Arrivals taken by a worker whose pool was empty while another worker's was not. */
  readonly coldBesideReady: number;
  /** CPU ms each kernel started during the run has used (its cgroup on the host). */
  readonly startCpuMs: number[];
}

/**
 * New threads arriving through the real queue to two workers, each worker's first cell timed
 * from submit to `done` (a thread's first answer waits on exactly this). Each pattern runs on
 * fresh workers with resting pools, once with the adaptive pool and once with a fixed pool of
 * the same resting size, in the same run, so the fixed pool is the anchor.
 */
export async function benchArrivals(options: ArrivalOptions): Promise<ArrivalFigures> {
  const { log } = options;
  log(
    `arrivals: burst of ${BURST.count} new threads in 1 s, adaptive pool (max ${options.poolMax})`,
  );
  const burst = await arrive(options, options.poolMax, BURST);
  log('arrivals: the same burst, fixed pool');
  const burstFixed = await arrive(options, undefined, BURST);
  log(`arrivals: ${STEADY.count} new threads, one a second, adaptive pool`);
  const steady = await arrive(options, options.poolMax, STEADY);
  log('arrivals: the same, fixed pool');
  const steadyFixed = await arrive(options, undefined, STEADY);
  const steadyP95 = percentile(steady.firstCellMs, 95);
  const steadyFixedP95 = percentile(steadyFixed.firstCellMs, 95);
  const burstP95 = percentile(burst.firstCellMs, 95);
  const burstFixedP95 = percentile(burstFixed.firstCellMs, 95);
  const startCpuP50 = percentile(burst.startCpuMs, 50);
  const coldStarts = Math.max(0, BURST.count - 2 * options.poolSize);
  return {
    steady_first_cell_p50_ms: percentile(steady.firstCellMs, 50),
    steady_first_cell_p95_ms: steadyP95,
    steady_fixed_pool_first_cell_p95_ms: steadyFixedP95,
    steady_vs_fixed_pool_p95_ratio: round(steadyP95 / steadyFixedP95),
    burst_first_cell_p50_ms: percentile(burst.firstCellMs, 50),
    burst_first_cell_p95_ms: burstP95,
    burst_fixed_pool_first_cell_p50_ms: percentile(burstFixed.firstCellMs, 50),
    burst_fixed_pool_first_cell_p95_ms: burstFixedP95,
    burst_vs_fixed_pool_p95_ratio: round(burstP95 / burstFixedP95),
    kernel_start_cpu_ms_p50: startCpuP50,
    burst_cpu_floor_ms: round((coldStarts * startCpuP50) / availableParallelism()),
    burst_cold_beside_ready: burst.coldBesideReady + burstFixed.coldBesideReady,
    steady_cold_beside_ready: steady.coldBesideReady + steadyFixed.coldBesideReady,
    arrivals_failed: [burst, burstFixed, steady, steadyFixed].reduce((n, r) => n + r.failed, 0),
  };
}

async function arrive(
  options: ArrivalOptions,
  poolMax: number | undefined,
  pattern: { count: number; everyMs: number },
): Promise<ArrivalRun> {
  const kind = poolMax === undefined ? 'fixed' : 'adaptive';
  const workerIds = ['a', 'b'].map((w) => `bench-arrive-${process.pid}-${kind}-${w}`);
  const fixture = await QueueFixture.start({
    redisUrl: options.redisUrl,
    settings: benchSettings(options.image, {
      runtime: options.runtime,
      poolSize: options.poolSize,
      ...(poolMax === undefined ? {} : { poolMax }),
    }),
    workerIds,
  });
  try {
    await fixture.whenPoolsFull();
    const resting = new Set(await kernelIds(fixture.docker, workerIds));
    const started = performance.now();
    const arrivals = Array.from({ length: pattern.count }, async (_, i) => {
      const waitMs = started + i * pattern.everyMs - performance.now();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, waitMs)));
      const ready = fixture.managers.map((m) => m.pool.readyCount);
      const sessionId = `bench:arrive-${kind}-${i}`;
      try {
        const ms = await timeMs(async () => drain(await fixture.submit(sessionId, '1+1')));
        const taker = workerIds.indexOf((await fixture.pinnedWorker(sessionId)) ?? '');
        const coldBesideReady = ready[taker] === 0 && ready.some((n) => n > 0);
        return { ms, coldBesideReady };
      } catch (error) {
        // Counted and named, not fatal: the other arrivals' figures still stand.
        options.log(`arrivals: ${sessionId} failed: ${String(error)}`);
        return undefined;
      }
    });
    const results = (await Promise.all(arrivals)).filter((r) => r !== undefined);
    const startedHere = (await kernelIds(fixture.docker, workerIds)).filter(
      (id) => !resting.has(id),
    );
    // The metering's own reader (the container's cgroup, else Docker's stats).
    const usage = new CgroupUsage();
    const counters = await Promise.all(
      startedHere.map((id) => usage.read(fixture.docker.getContainer(id))),
    );
    const startCpuMs = counters.flatMap((c) => (c === undefined ? [] : [c.cpuNs / 1e6]));
    const firstCellMs = results.map((r) => r.ms);
    options.log(
      `arrivals: ${kind} pool, ${firstCellMs.length}/${pattern.count} ok: p50 ${percentile(firstCellMs, 50)} ms, p95 ${percentile(firstCellMs, 95)} ms, max ${percentile(firstCellMs, 100)} ms`,
    );
    return {
      firstCellMs,
      failed: pattern.count - results.length,
      coldBesideReady: results.filter((r) => r.coldBesideReady).length,
      startCpuMs,
    };
  } finally {
    await fixture.close();
  }
}

/** The full ids of the kernel containers the workers have now (label filters are ANDed). */
async function kernelIds(docker: Docker, workerIds: readonly string[]): Promise<string[]> {
  const perWorker = await Promise.all(
    workerIds.map((id) =>
      docker.listContainers({ all: true, filters: { label: [`sandbot.worker=${id}`] } }),
    ),
  );
  return perWorker.flat().map((c) => c.Id);
}
