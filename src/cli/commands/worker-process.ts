import { RedisBlobStore } from '../../blobs/redis-blob-store.ts';
import type { Config } from '../../core/config.ts';
import { HttpServer } from '../../http/http-server.ts';
import { BullmqJobWorker } from '../../jobs/bullmq-job-worker.ts';
import { sweepDeadWorkers } from '../../jobs/dead-worker-sweeper.ts';
import { BLOB_LIMITS, sessionLifetimeMs } from '../../jobs/defaults.ts';
import { RedisKeys } from '../../jobs/redis-keys.ts';
import { WorkerMetrics } from '../../jobs/worker-metrics.ts';
import type { Logger } from '../../logging/logger.ts';
import type { Redis } from '../../redis/connection.ts';
import type { RedisHealth } from '../../redis/redis-health.ts';
import type { Docker } from '../../sandbox/docker-client.ts';
import { LABEL } from '../../sandbox/labels.ts';
import { SandboxManager } from '../../sandbox/sandbox-manager.ts';
import { RedisSandboxPackages } from '../../redis/redis-sandbox-packages.ts';
import { SANDBOT_VERSION } from '../version.ts';
import { attachCheckpoints } from '../../checkpoints/attach-checkpoints.ts';
import { RedisCheckpointStore } from '../../checkpoints/redis-checkpoint-store.ts';
import { redisPackageJobs } from '../../packages/redis-package-jobs.ts';

/** How often a worker looks for containers of workers that died without cleaning up. */
const SWEEP_EVERY_MS = 10_000;
/** Running cells get this long to finish on SIGTERM before they are interrupted. */
export const SHUTDOWN_GRACE_MS = 10_000;

export interface WorkerServices {
  readonly config: Config & { readonly redisUrl: string };
  readonly redis: Redis;
  readonly health: RedisHealth;
  readonly docker: Docker;
  readonly logger: Logger;
}

/** A running `sandbot worker`: taking jobs, sweeping, serving /healthz and /metrics. */
export interface RunningWorker {
  /** Stops taking jobs, lets cells finish within the grace, removes its containers. */
  stop(): Promise<void>;
}

/**
 * Starts the worker's parts in the order a restart under the same WORKER_ID needs: refuse a
 * live twin (WORKER_ID_IN_USE) before touching its containers; end the previous life's jobs
 * (their callers hear `lost` at once) before removing its containers; only then take jobs.
 */
export async function startWorkerProcess(services: WorkerServices): Promise<RunningWorker> {
  const { config, redis, health, docker } = services;
  const log = services.logger.child({ worker: config.worker.id });
  // What the kernels report of the image reaches the bots' model prompt through Redis.
  const packages = RedisSandboxPackages.of(redis, config, log);
  const manager = new SandboxManager({
    onPackages: (names) => void packages.publish(names),
    docker,
    settings: config.sandbox,
    workerId: config.worker.id,
    sessionIdleMs: config.sessionIdleMs,
    logger: log,
    labels: { [LABEL.deployment]: config.redisPrefix },
  });
  const metrics = new WorkerMetrics(manager);
  // On the process's own connection: the manager saves sessions at close, after the
  // worker's connections are gone.
  const checkpoints = attachCheckpoints(
    manager,
    new RedisCheckpointStore(redis, config.redisPrefix, {
      ttlMs: sessionLifetimeMs(config.sessionIdleMs),
      budgetBytes: config.checkpoints.totalBytes,
    }),
    config.checkpoints,
    log,
  );
  const worker = new BullmqJobWorker({
    redisUrl: config.redisUrl,
    prefix: config.redisPrefix,
    workerId: config.worker.id,
    concurrency: config.worker.concurrency,
    manager,
    blobs: new RedisBlobStore(redis, `${config.redisPrefix}:`, BLOB_LIMITS),
    logger: log,
    sessionIdleMs: config.sessionIdleMs,
    redisHealth: health,
    checkpoints,
    packages: redisPackageJobs(redis, config, log),
    onJobDone: (done, wait) => metrics.recordJob(done, wait),
  });
  await claimOrClose(worker);
  await manager.start();
  await worker.start();
  const stopSweeping = sweepPeriodically(services, log);
  let stopping = false;
  const server = await serveHealth(config, log, metrics, () => !stopping && health.ok);
  log.info(
    { concurrency: config.worker.concurrency, metricsPort: config.worker.metricsPort },
    'worker ready',
  );
  return {
    async stop() {
      stopping = true;
      stopSweeping();
      log.info('shutting down: no new jobs; waiting for running cells');
      await drain(worker, log);
      await manager.close();
      await server?.close();
      log.info('worker stopped');
    },
  };
}

/** Takes WORKER_ID; a worker that cannot is closed (its connections) before the error goes on. */
async function claimOrClose(worker: BullmqJobWorker): Promise<void> {
  try {
    await worker.claim();
  } catch (error) {
    await worker.close();
    throw error;
  }
}

/** The same server as the bot's, with nothing mounted: /healthz and /metrics only. */
async function serveHealth(
  config: Config,
  log: Logger,
  metrics: WorkerMetrics,
  healthy: () => boolean,
): Promise<HttpServer | undefined> {
  if (config.worker.metricsPort === 0) return undefined;
  const server = new HttpServer({
    host: config.http.host,
    port: config.worker.metricsPort,
    logger: log,
    metrics: metrics.registry,
    healthy,
    version: SANDBOT_VERSION,
  });
  await server.listen();
  return server;
}

/** Closes the queue consumers; cells still running after the grace are interrupted. */
async function drain(worker: BullmqJobWorker, log: Logger): Promise<void> {
  const closed = worker.close();
  const grace = new Promise<'grace'>((resolve) =>
    setTimeout(resolve, SHUTDOWN_GRACE_MS, 'grace').unref(),
  );
  if ((await Promise.race([closed.then(() => 'closed' as const), grace])) === 'grace') {
    log.warn('cells still running after the grace period: interrupting them');
    worker.interruptAll();
    await closed;
  }
}

/**
 * Workers killed without a chance to clean up leave containers; neighbours on the same
 * Docker host remove them once the dead worker's heartbeat has expired.
 */
function sweepPeriodically(services: WorkerServices, log: Logger): () => void {
  const { config } = services;
  const sweep = () =>
    sweepDeadWorkers({
      docker: services.docker,
      redis: services.redis,
      keys: new RedisKeys(config.redisPrefix),
      deployment: config.redisPrefix,
      selfId: config.worker.id,
      logger: log,
    }).catch((error: unknown) => log.warn({ err: error }, 'sweep of stopped workers failed'));
  void sweep();
  const timer = setInterval(() => void sweep(), SWEEP_EVERY_MS);
  return () => clearInterval(timer);
}
