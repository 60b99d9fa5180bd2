import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { containerSpec, volumeSpec } from '../../src/sandbox/container-spec.ts';
import { dockerTestScope } from '../support/docker.ts';
import { testSandboxSettings } from '../support/sandbox.ts';

const services = inject('services');

/** The runner's Python unit tests, as they are laid out in the image (sandbox-image/runner/tests). */
const UNITTEST_CMD = [
  'python3',
  '-m',
  'unittest',
  'discover',
  '-v',
  '-s',
  '/opt/sandbot/runner/tests',
  '-t',
  '/opt/sandbot',
];

interface UnitTestRun {
  readonly exitCode: number;
  /** stdout and stderr together, as unittest writes its report to stderr. */
  readonly output: string;
}

describe.skipIf(services.sandboxImage === undefined)('the runner inside the sandbox image', () => {
  const scope = dockerTestScope();

  afterAll(async () => {
    try {
      expect(await scope.leftovers()).toBe(0);
    } finally {
      await scope.cleanup();
    }
  });

  /** Runs the unit tests in a container hardened exactly as the worker makes a kernel's. */
  async function runUnitTests(): Promise<UnitTestRun> {
    const suffix = randomBytes(6).toString('hex');
    const limits = testSandboxSettings();
    const volumeName = `sandbot-data-${suffix}`;
    await scope.docker.createVolume(volumeSpec(volumeName, limits.diskMb, scope.labels));
    const container = await scope.docker.createContainer({
      ...containerSpec({
        name: `sandbot-runner-units-${suffix}`,
        volumeName,
        limits,
        labels: scope.labels,
        idleExitS: 60,
      }),
      Cmd: UNITTEST_CMD,
      AttachStdin: false,
      OpenStdin: false,
    });
    try {
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      const output = new PassThrough();
      const chunks: Buffer[] = [];
      output.on('data', (chunk: Buffer) => chunks.push(chunk));
      const ended = new Promise<void>((resolve) => stream.once('end', () => resolve()));
      scope.docker.modem.demuxStream(stream, output, output);
      await container.start();
      const { StatusCode: exitCode } = (await container.wait()) as { StatusCode: number };
      await ended;
      return { exitCode, output: Buffer.concat(chunks).toString('utf8') };
    } finally {
      await container.remove({ force: true, v: true }).catch(() => undefined);
    }
  }

  it('passes the unit tests of its pure parts (frames, capture, bundles, file scan)', async () => {
    const { exitCode, output } = await runUnitTests();
    const ran = /^Ran (\d+) tests? in /m.exec(output);
    const verdict = /^(OK|FAILED)\b.*$/m.exec(output.slice(ran?.index ?? 0));
    expect(ran, output).not.toBeNull();
    expect(Number(ran?.[1]), output).toBeGreaterThan(0);
    expect(verdict?.[1], output).toBe('OK');
    expect(exitCode, output).toBe(0);
  }, 120_000);
});
