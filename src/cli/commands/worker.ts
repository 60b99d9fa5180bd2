import { RedisBlobStore } from '../../blobs/redis-blob-store.ts';
import { BullmqJobWorker } from '../../jobs/bullmq-job-worker.ts';
import { BLOB_LIMITS } from '../../jobs/defaults.ts';
import { WorkerMetrics } from '../../jobs/worker-metrics.ts';
import { HttpServer } from '../../http/http-server.ts';
import { createLogger } from '../../logging/logger.ts';
import { createRedis, readMaxmemoryPolicy } from '../../redis/connection.ts';
import { probeRedis } from '../../redis/probe-redis.ts';
import { RedisHealth } from '../../redis/redis-health.ts';
import { createDockerClient, translateDockerError } from '../../sandbox/docker-client.ts';
import { SandboxManager } from '../../sandbox/sandbox-manager.ts';
import { LABEL } from '../../sandbox/labels.ts';
import { sweepDeadWorkers } from '../../jobs/dead-worker-sweeper.ts';
import { RedisKeys } from '../../jobs/redis-keys.ts';
import { UsageError, type Command } from '../command.ts';
import { ExitCode } from '../exit-codes.ts';
import { loadConfig } from '../load-config.ts';

/** How often a worker looks for containers of workers that died without cleaning up. */
const SWEEP_EVERY_MS = 10_000;
/** Running cells get this long to finish on SIGTERM before they are interrupted. */
const SHUTDOWN_GRACE_MS = 10_000;
/** The whole shutdown, cells included; past it the process exits regardless. */
const WORKER_SHUTDOWN_MS = 30_000;

export const workerCommand: Command = {
  name: 'worker',
  summary: 'run code jobs from the Redis queue in Docker sandboxes',
  help: `Usage: sandbot worker

Takes code jobs from the queue at REDIS_URL and runs them in sandbox containers on this
host's Docker engine. Run one per host (or more, with distinct WORKER_ID); they share the
work. WORKER_CONCURRENCY cells run at once. /metrics and /healthz on METRICS_PORT.

WORKER_ID (default: the host name) may be reused by a restart: the new process ends the
cells its previous life was running (their callers get \`lost\`), removes that life's
containers, then takes jobs. A second live worker with the same id is refused.

While Redis is away it keeps retrying (logging once every 30 s, /healthz 503) and carries
on when Redis is back.

On SIGTERM or Ctrl-C it stops taking jobs, gives running cells ${SHUTDOWN_GRACE_MS / 1000} s to finish,
interrupts the rest, removes its containers and exits, within ${WORKER_SHUTDOWN_MS / 1000} s in all; a
second signal ends it at once.

Exit status: 0 after a clean shutdown; 78 when REDIS_URL is unset, Redis may evict
queue keys, or another live worker has this WORKER_ID; 69 when Docker or Redis is
unreachable at start.`,
  shutdownMs: WORKER_SHUTDOWN_MS,
  async run(args, context) {
    if (args.length > 0) throw new UsageError(`worker takes no arguments (got ${args.join(' ')})`);
    const config = loadConfig(context);
    const logger = createLogger({ level: config.log.level, format: config.log.format });
    const redisUrl = config.redisUrl;
    if (redisUrl === undefined) {
      context.stderr.write(
        'sandbot worker: REDIS_URL is not set. Set it to the Redis the bot uses; without Redis, `sandbot start` runs the worker in its own process.\n',
      );
      return ExitCode.Config;
    }
    // Refuse at once (exit 69) rather than retrying in the background for ever.
    await probeRedis(redisUrl);
    const health = new RedisHealth({ logger });
    const redis = createRedis(redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 5000 });
    health.watch(redis, 'worker-main');
    await redis.connect();
    const policy = await readMaxmemoryPolicy(redis);
    if (policy !== undefined && policy !== 'noeviction') {
      redis.disconnect();
      context.stderr.write(
        `sandbot worker: Redis maxmemory-policy is ${policy}, which can evict queued jobs. Set it to noeviction (redis-server --maxmemory-policy noeviction).\n`,
      );
      return ExitCode.Config;
    }
    const docker = createDockerClient();
    try {
      await docker.ping();
    } catch (error) {
      redis.disconnect();
      throw translateDockerError(error, 'reach the engine');
    }
    const log = logger.child({ worker: config.worker.id });
    const manager = new SandboxManager({
      docker,
      settings: config.sandbox,
      workerId: config.worker.id,
      sessionIdleMs: config.sessionIdleMs,
      logger: log,
      labels: { [LABEL.deployment]: config.redisPrefix },
    });
    const metrics = new WorkerMetrics(manager);
    const worker = new BullmqJobWorker({
      redisUrl,
      prefix: config.redisPrefix,
      workerId: config.worker.id,
      concurrency: config.worker.concurrency,
      manager,
      blobs: new RedisBlobStore(redis, `${config.redisPrefix}:`, BLOB_LIMITS),
      logger: log,
      sessionIdleMs: config.sessionIdleMs,
      redisHealth: health,
      onJobDone: (done, wait) => metrics.recordJob(done, wait),
    });
    // Order matters for a restart under the same WORKER_ID: refuse a live twin (exit 78)
    // before touching its containers; end the previous life's jobs (their callers hear
    // `lost` at once) before removing its containers; only then take jobs.
    try {
      await worker.claim();
    } catch (error) {
      redis.disconnect();
      await worker.close();
      throw error;
    }
    await manager.start();
    await worker.start();
    // Workers killed without a chance to clean up leave containers; neighbours remove them
    // once the dead worker's heartbeat has expired.
    const sweep = () =>
      sweepDeadWorkers({
        docker,
        redis,
        keys: new RedisKeys(config.redisPrefix),
        deployment: config.redisPrefix,
        selfId: config.worker.id,
        logger: log,
      }).catch((error: unknown) => log.warn({ err: error }, 'sweep of stopped workers failed'));
    await sweep();
    const sweeper = setInterval(() => void sweep(), SWEEP_EVERY_MS);
    let stopping = false;
    // The same server as the bot's, with nothing mounted: /healthz and /metrics only.
    const server =
      config.worker.metricsPort === 0
        ? undefined
        : new HttpServer({
            host: config.http.host,
            port: config.worker.metricsPort,
            logger: log,
            metrics: metrics.registry,
            healthy: () => !stopping && health.ok,
          });
    await server?.listen();
    log.info(
      { concurrency: config.worker.concurrency, metricsPort: config.worker.metricsPort },
      'worker ready',
    );

    await new Promise<void>((resolve) =>
      context.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    stopping = true;
    clearInterval(sweeper);
    log.info('shutting down: no new jobs; waiting for running cells');
    const closed = worker.close();
    const grace = new Promise<'grace'>((resolve) =>
      setTimeout(resolve, SHUTDOWN_GRACE_MS, 'grace').unref(),
    );
    if ((await Promise.race([closed.then(() => 'closed' as const), grace])) === 'grace') {
      log.warn('cells still running after the grace period: interrupting them');
      worker.interruptAll();
      await closed;
    }
    await manager.close();
    await server?.close();
    redis.disconnect();
    log.info('worker stopped');
    return ExitCode.Ok;
  },
};
