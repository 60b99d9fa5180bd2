import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRedis } from './redis.ts';

/**
 * A private redis-server for tests that restart Redis or change its configuration, so the
 * shared one other tests use is never disturbed.
 */
export interface PrivateRedis {
  readonly url: string;
  start(): Promise<void>;
  /** SIGKILL: nothing gets flushed but what AOF already wrote. */
  kill(): Promise<void>;
  /** SIGTERM, as a real restart stops it: Redis flushes its AOF (and saves) before it exits. */
  stop(): Promise<void>;
  /** Kills it and removes its data directory. */
  dispose(): Promise<void>;
}

export async function privateRedis(extraArgs: readonly string[] = []): Promise<PrivateRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'sandbot-redis-'));
  const port = 16_000 + Math.floor(Math.random() * 2000);
  const url = `redis://127.0.0.1:${port}`;
  let server: ChildProcess | undefined;
  const end = async (signal: NodeJS.Signals) => {
    if (server === undefined || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server?.once('exit', resolve));
    server.kill(signal);
    await exited;
  };
  const kill = () => end('SIGKILL');
  return {
    url,
    async start() {
      server = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...extraArgs],
        { stdio: 'ignore' },
      );
      const until = Date.now() + 10_000;
      for (;;) {
        try {
          const probe = await connectRedis(url);
          await probe.ping();
          probe.disconnect();
          return;
        } catch {
          if (Date.now() > until) throw new Error(`redis-server on ${port} did not start`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
    kill,
    stop: () => end('SIGTERM'),
    async dispose() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
