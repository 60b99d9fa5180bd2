import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeSlack } from '../fakes/fake-slack-server.ts';
import { eventually, SANDBOT_BIN } from './sandbot-process.ts';

/**
 * A deployment as an operator runs it, on one machine: `sandbot worker` and `sandbot start`
 * processes sharing one Redis prefix, the bots on the fake Slack over Socket Mode. For tests
 * that kill and restart those processes.
 */
export class SlackDeployment {
  private readonly children: ChildProcess[] = [];
  private readonly outputs = new Map<string, string>();
  private readonly options: {
    readonly slack: FakeSlack;
    readonly redisUrl: string;
    readonly prefix: string;
    readonly sandboxImage: string;
    readonly poolSize: number;
  };

  constructor(options: SlackDeployment['options']) {
    this.options = options;
  }

  /** A `sandbot worker`, once it is ready. */
  worker(name: string): Promise<ChildProcess> {
    return this.run(['worker'], name, /worker ready/);
  }

  /** A `sandbot start` on the fake Slack, once it is connected. */
  bot(name: string): Promise<ChildProcess> {
    return this.run(['start', '--no-build'], name, /is running \(slack\)/);
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
    }
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGKILL');
  }

  private env(name: string): Record<string, string> {
    const { slack } = this.options;
    return {
      PATH: process.env.PATH ?? '',
      REDIS_URL: this.options.redisUrl,
      REDIS_PREFIX: this.options.prefix,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_APP_TOKEN: slack.appToken,
      SLACK_API_URL: slack.apiUrl,
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

  private async run(args: string[], name: string, ready: RegExp): Promise<ChildProcess> {
    const child = spawn(process.execPath, [SANDBOT_BIN, ...args], {
      cwd: await mkdtemp(join(tmpdir(), 'sandbot-deployment-')),
      env: this.env(name),
    });
    this.children.push(child);
    let output = '';
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
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
}
