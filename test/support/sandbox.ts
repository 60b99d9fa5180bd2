import { pino } from 'pino';
import type { SandboxSettings } from '../../src/core/config.ts';
import { SandboxManager } from '../../src/sandbox/sandbox-manager.ts';
import { collectOutcome, type CellOutcome } from './cell-outcome.ts';
import type { ExecuteOptions, Sandbox } from '../../src/sandbox/sandbox.ts';
import { dockerTestScope, type DockerTestScope } from './docker.ts';
import { SANDBOX_IMAGE } from './services.ts';

/** `SANDBOT_TEST_RUNTIME=runsc` runs suites under gVisor (.ci/run does for the hostile ones). */
const TEST_RUNTIME = process.env.SANDBOT_TEST_RUNTIME || undefined;

/** Small limits so the limit tests (memory, disk, output) finish quickly. */
export function testSandboxSettings(overrides: Partial<SandboxSettings> = {}): SandboxSettings {
  return {
    image: SANDBOX_IMAGE,
    runtime: TEST_RUNTIME,
    memoryMb: 384,
    cpus: 1,
    diskMb: 64,
    tmpMb: 32,
    pidsLimit: 64,
    cellTimeoutMs: 30_000,
    outputLimitBytes: 64 * 1024,
    maxFileBytes: 5 * 1024 * 1024,
    maxFiles: 5,
    poolSize: 1,
    ...overrides,
  };
}

export const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface ManagerHarness {
  readonly manager: SandboxManager;
  readonly scope: DockerTestScope;
  /** Closes the manager and removes everything the test created; returns leftovers found. */
  close(): Promise<number>;
}

export async function startManager(
  overrides: Partial<SandboxSettings> = {},
  workerId = `test-${Math.random().toString(36).slice(2, 10)}`,
): Promise<ManagerHarness> {
  const scope = dockerTestScope();
  const manager = new SandboxManager({
    docker: scope.docker,
    settings: testSandboxSettings(overrides),
    workerId,
    sessionIdleMs: 10 * 60_000,
    logger: quietLogger,
    labels: scope.labels,
    interruptGraceMs: 1500,
  });
  await manager.start();
  return {
    manager,
    scope,
    async close() {
      try {
        await manager.close();
        return await scope.leftovers();
      } finally {
        await scope.cleanup();
      }
    },
  };
}

export function run(
  sandbox: Sandbox,
  code: string,
  options: ExecuteOptions = {},
): Promise<CellOutcome> {
  return collectOutcome(sandbox.execute(code, options));
}

/**
 * Runs `code` and stops it, as the Stop button does, once its stdout has shown `marker`: the
 * stop then lands while the cell is running, however long the cell took to start.
 */
export function runStoppedOnOutput(
  sandbox: Sandbox,
  code: string,
  marker: string,
): Promise<CellOutcome> {
  const controller = new AbortController();
  async function* watched() {
    for await (const event of sandbox.execute(code, { signal: controller.signal })) {
      if (event.type === 'stdout' && event.text.includes(marker)) controller.abort();
      yield event;
    }
  }
  return collectOutcome(watched());
}

/** The text/plain of the last rich result, which is how `x + 1` at the end of a cell shows. */
export function lastResult(outcome: CellOutcome): string | undefined {
  return outcome.displays.at(-1)?.['text/plain'];
}
