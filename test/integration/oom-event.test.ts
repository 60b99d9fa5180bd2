/**
 * Telling a memory kill from another SIGKILL when Docker's OOMKilled flag is missing: under load
 * the containerd OOM event can come after the exit (seen under gVisor in CI), and Docker then
 * leaves State.OOMKilled false. wasOomKilled falls back to Docker's event log. Real Docker, the
 * real image; the late flag is the one thing faked, by handing over the inspect result with
 * OOMKilled cleared, as Docker shows it after that race.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { LABEL } from '../../src/sandbox/labels.ts';
import { wasOomKilled } from '../../src/sandbox/oom-event.ts';
import { dockerTestScope } from '../support/docker.ts';
import { SANDBOX_IMAGE } from '../support/services.ts';

const services = inject('services');
const TEST_RUNTIME = process.env.SANDBOT_TEST_RUNTIME || undefined;

describe.skipIf(services.sandboxImage === undefined)(
  'a memory kill told from Docker’s events',
  () => {
    const scope = dockerTestScope();

    afterAll(async () => {
      await scope.cleanup();
      expect(await scope.leftovers()).toBe(0);
    });

    /** Runs `code` in a 128 MB container until it exits; its inspect result and exit code. */
    async function runToExit(code: string) {
      const container = await scope.docker.createContainer({
        Image: SANDBOX_IMAGE,
        // A shell as PID 1, as a kernel's lifetime init is: a SIGKILL the code sends itself then
        // lands (PID 1 ignores it) and the shell exits with its status, 137.
        Cmd: ['sh', '-c', 'python3 -c "$CODE"; exit $?'],
        Env: [`CODE=${code}`],
        // Managed, as a kernel's container is: the scope's cleanup removes only those.
        Labels: { ...scope.labels, [LABEL.managed]: '1' },
        HostConfig: {
          Memory: 128 * 1024 * 1024,
          MemorySwap: 128 * 1024 * 1024,
          NetworkMode: 'none',
          ...(TEST_RUNTIME === undefined ? {} : { Runtime: TEST_RUNTIME }),
        },
      });
      await container.start();
      const { StatusCode: exitCode } = (await container.wait()) as { StatusCode: number };
      const info = await container.inspect();
      return { exitCode, info };
    }

    it('finds the oom event of a memory bomb whose OOMKilled flag came too late', async () => {
      const { exitCode, info } = await runToExit(
        'hog = []\nwhile True:\n    hog.append(bytearray(20 * 1024 * 1024))',
      );
      expect(exitCode).toBe(137);
      const late = { ...info, State: { ...info.State, OOMKilled: false } };
      expect(await wasOomKilled(scope.docker, late, exitCode, undefined)).toBe(true);
    });

    it('does not call a SIGKILL the code sent itself a memory kill', async () => {
      const { exitCode, info } = await runToExit(
        'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)',
      );
      expect(exitCode).toBe(137);
      expect(info.State.OOMKilled).toBe(false);
      expect(await wasOomKilled(scope.docker, info, exitCode, undefined)).toBe(false);
    });

    it('leaves a kill of ours as ours', async () => {
      const { exitCode, info } = await runToExit(
        'hog = []\nwhile True:\n    hog.append(bytearray(20 * 1024 * 1024))',
      );
      const late = { ...info, State: { ...info.State, OOMKilled: false } };
      expect(await wasOomKilled(scope.docker, late, exitCode, 'timeout')).toBe(false);
    });
  },
);
