import type { Config } from '../../core/config.ts';
import { createLogger, type Logger } from '../../logging/logger.ts';
import { createRedis, readMaxmemoryPolicy } from '../../redis/connection.ts';
import { probeRedis } from '../../redis/probe-redis.ts';
import { RedisHealth } from '../../redis/redis-health.ts';
import { createDockerClient, translateDockerError } from '../../sandbox/docker-client.ts';
import { UsageError, type Command, type CommandContext } from '../command.ts';
import { ExitCode } from '../exit-codes.ts';
import { loadConfig } from '../load-config.ts';
import { SHUTDOWN_GRACE_MS, startWorkerProcess, type WorkerServices } from './worker-process.ts';

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
    const services = await connectServices(config, logger, context);
    if (typeof services === 'number') return services;
    let running;
    try {
      running = await startWorkerProcess({ ...services, logger });
    } catch (error) {
      services.redis.disconnect();
      throw error;
    }
    await new Promise<void>((resolve) =>
      context.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    await running.stop();
    services.redis.disconnect();
    return ExitCode.Ok;
  },
};

/**
 * Redis and Docker as the worker needs them, or the exit code that says why not: Redis
 * unset or evicting (78), unreachable (69, thrown), Docker unreachable (69, thrown).
 */
async function connectServices(
  config: Config,
  logger: Logger,
  context: CommandContext,
): Promise<Omit<WorkerServices, 'logger'> | ExitCode> {
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
  return { config: { ...config, redisUrl }, redis, health, docker };
}
