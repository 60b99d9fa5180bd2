import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from '../../src/redis/connection.ts';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import { LABEL } from '../../src/sandbox/labels.ts';
import { removeContainers } from '../../src/sandbox/sandbox-manager.ts';
import { deleteKeys } from './redis.ts';
import { eventually, SANDBOT_BIN } from './sandbot-process.ts';

export interface BotDeploymentOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly sandboxImage: string;
  readonly poolSize: number;
  /** The platform's settings (tokens, API URL), given to every process. */
  readonly platformEnv: Readonly<Record<string, string>>;
}

/**
 * A deployment as an operator runs it, on one machine: `sandbot worker` and `sandbot start`
 * processes sharing one Redis prefix and one chat platform (a fake). For tests that kill and
 * restart those processes; the platform's subclass says how its bots start.
 */
export class BotDeployment {
  private readonly children: ChildProcess[] = [];
  private readonly outputs = new Map<string, string>();
  private readonly logs: string[] = [];
  private readonly options: BotDeploymentOptions;

  constructor(options: BotDeploymentOptions) {
    this.options = options;
  }

  /** A `sandbot worker`, once it is ready; `env` adds settings (WORKER_CONCURRENCY). */
  worker(name: string, env: Readonly<Record<string, string>> = {}): Promise<ChildProcess> {
    return this.run(['worker'], name, /worker ready/, env);
  }

  /** Sends `signal` and resolves once the process has exited. */
  async stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  /** Kills what is still running; with SANDBOT_TEST_DEBUG=1 prints what each process said. */
  dispose(): void {
    if (process.env.SANDBOT_TEST_DEBUG === '1') {
      for (const [name, text] of this.outputs) console.log(`===== ${name}\n${text}`);
      console.log(`the processes' output, by process:\n${this.logs.join('\n')}`);
    }
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGKILL');
  }

  /** Kills what is still running, then removes the deployment's sandboxes and Redis keys. */
  async remove(redis: Redis): Promise<void> {
    this.dispose();
    await removeContainers(createDockerClient(), { [LABEL.deployment]: this.options.prefix });
    await deleteKeys(redis, this.options.prefix);
  }

  /** `sandbot <args>` named `name` (its WORKER_ID), once its output matches `ready`. */
  protected async run(
    args: readonly string[],
    name: string,
    ready: RegExp,
    extraEnv: Readonly<Record<string, string>> = {},
  ): Promise<ChildProcess> {
    const cwd = await mkdtemp(join(tmpdir(), 'sandbot-deployment-'));
    const child = spawn(process.execPath, [SANDBOT_BIN, ...args], {
      cwd,
      env: { ...this.env(name), ...extraEnv },
    });
    this.children.push(child);
    // Also on disk, for reading after a failed run (vitest may cut long console output).
    const log = createWriteStream(join(cwd, 'output.log'));
    child.once('exit', () => log.end());
    this.logs.push(`${name}: ${join(cwd, 'output.log')}`);
    let output = '';
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
      log.write(chunk);
      this.outputs.set(name, `${this.outputs.get(name) ?? ''}${chunk.toString()}`);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    await eventually(() => {
      if (child.exitCode !== null) throw new Error(`${name} exited:\n${output}`);
      return ready.test(output) ? true : undefined;
    }, `${name} ready`);
    return child;
  }

  private env(name: string): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      REDIS_URL: this.options.redisUrl,
      REDIS_PREFIX: this.options.prefix,
      ...this.options.platformEnv,
      HTTP_PORT: '0',
      METRICS_PORT: '0',
      WORKER_ID: name,
      SANDBOX_IMAGE: this.options.sandboxImage,
      SANDBOX_POOL_SIZE: String(this.options.poolSize),
      SANDBOX_MEMORY_MB: '256',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      ...(process.env.DOCKER_HOST === undefined ? {} : { DOCKER_HOST: process.env.DOCKER_HOST }),
    };
  }
}
