import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import { LABEL } from '../../src/sandbox/labels.ts';

/** Runs the real `sandbot` command as a child process and keeps what it prints. */

export const SANDBOT_BIN = join(process.cwd(), 'bin/sandbot.js');

export interface SandbotProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name); rejects after `guardMs`. */
  exit(guardMs?: number): Promise<number | string>;
}

export function spawnSandbot(
  args: readonly string[],
  env: Record<string, string | undefined>,
  options: { cwd?: string } = {},
): SandbotProcess {
  const child = spawn(process.execPath, [SANDBOT_BIN, ...args], {
    env,
    cwd: options.cwd ?? process.cwd(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const ended = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit: (guardMs = 60_000) =>
      guard(ended, guardMs, () => `sandbot ${args[0] ?? ''} did not exit:\n${out}\n${err}`),
  };
}

/** `promise`, or a failure naming what did not happen within `ms` (a hang guard, not a timing). */
export function guard<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const fail = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(what())), ms);
  });
  return Promise.race([promise, fail]).finally(() => clearTimeout(timer));
}

/** Polls `check` until it returns something other than undefined; fails after `guardMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
  guardMs = 60_000,
): Promise<T> {
  const until = Date.now() + guardMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`never observed: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Ids of the sandbot containers (running or not) carrying all of `labels`. */
export async function containersLabelled(labels: Record<string, string>): Promise<string[]> {
  const docker = createDockerClient();
  const filters = [`${LABEL.managed}=1`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)];
  const found = await docker.listContainers({ all: true, filters: { label: filters } });
  return found.map((c) => c.Id);
}
