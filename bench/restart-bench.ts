import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pino } from 'pino';
import { BullmqJobQueue } from '../src/jobs/bullmq-job-queue.ts';
import { createRedis, type Redis } from '../src/redis/connection.ts';
import { createDockerClient } from '../src/sandbox/docker-client.ts';
import { LABEL } from '../src/sandbox/labels.ts';
import { removeContainers } from '../src/sandbox/sandbox-manager.ts';
import { round } from './stats.ts';

export interface RestartFigures {
  /** From SIGKILL of a worker mid-cell to its caller's `lost`, restarting under the same id. */
  same_id_restart_to_lost_s: number;
  /** Anchor: the same worker's own start, to its first heartbeat, in the same run. */
  worker_start_s: number;
  same_id_restart_vs_worker_start_ratio: number;
  /** `sandbot worker` against a Redis that refuses connections, to its exit (69). */
  redis_unreachable_exit_s: number;
  /** Anchor: `sandbot --help`, the command's own start-up and exit. */
  cli_help_exit_s: number;
  redis_unreachable_vs_cli_help_ratio: number;
}

const BIN = join(import.meta.dirname, '..', 'bin', 'sandbot.js');

function sandbot(args: string[], env: Record<string, string | undefined>): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { env, stdio: 'ignore' });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function secondsUntil(task: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await task();
  return (performance.now() - started) / 1000;
}

/** Every key matching `pattern` (all of SCAN's pages: one page may hold none of them). */
async function keysMatching(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

async function beating(redis: Redis, key: string, since: string | null): Promise<void> {
  for (;;) {
    const value = await redis.get(key);
    if (value !== null && value !== since) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function benchRestarts(
  redisUrl: string,
  log: (line: string) => void,
): Promise<RestartFigures> {
  const prefix = `sandbot-bench-restart-${process.pid}`;
  const env = {
    ...process.env,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    WORKER_ID: undefined, // the default an operator gets: the host name
    SANDBOX_POOL_SIZE: '1',
    METRICS_PORT: '0',
    LOG_LEVEL: 'error',
  };
  const redis = createRedis(redisUrl);
  await redis.connect();
  const queue = new BullmqJobQueue({ redisUrl, prefix, logger: pino({ level: 'silent' }) });
  const children: ChildProcess[] = [];
  try {
    log('restarts: a worker killed mid-cell and started again under its own name');
    const heartbeatPattern = `${prefix}:worker:*:alive`;
    let worker = sandbot(['worker'], env);
    children.push(worker);
    const workerStartS = await secondsUntil(async () => {
      while ((await keysMatching(redis, heartbeatPattern)).length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    const [heartbeatKey = ''] = await keysMatching(redis, heartbeatPattern);
    const handle = await queue.submit({
      jobId: randomUUID(),
      sessionId: 'bench:restart',
      code: 'import time\ntime.sleep(120)',
      submittedAt: Date.now(),
    });
    let killedAt = 0;
    let lostAt = 0;
    for await (const event of handle.events) {
      if (event.type === 'started') {
        const last = await redis.get(heartbeatKey);
        killedAt = performance.now();
        worker.kill('SIGKILL');
        await exited(worker);
        worker = sandbot(['worker'], env);
        children.push(worker);
        void beating(redis, heartbeatKey, last);
      }
      if (event.type === 'done') lostAt = performance.now();
    }
    const restartToLostS = (lostAt - killedAt) / 1000;

    log('restarts: sandbot worker against a Redis that is not there');
    const unreachable = await secondsUntil(() =>
      exited(sandbot(['worker'], { ...env, REDIS_URL: 'redis://127.0.0.1:1' })),
    );
    const help = await secondsUntil(() => exited(sandbot(['--help'], env)));
    return {
      same_id_restart_to_lost_s: round(restartToLostS),
      worker_start_s: round(workerStartS),
      same_id_restart_vs_worker_start_ratio: round(restartToLostS / workerStartS),
      redis_unreachable_exit_s: round(unreachable),
      cli_help_exit_s: round(help),
      redis_unreachable_vs_cli_help_ratio: round(unreachable / help),
    };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await queue.close();
    await removeContainers(createDockerClient(), { [LABEL.deployment]: prefix });
    const keys = await keysMatching(redis, `${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
}
