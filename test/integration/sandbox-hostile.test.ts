import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KernelContainer, type ExitInfo } from '../../src/sandbox/kernel-container.ts';
import { dockerTestScope, type DockerTestScope } from '../support/docker.ts';
import {
  lastResult,
  quietLogger,
  run,
  runStoppedOnOutput,
  startManager,
  testSandboxSettings,
  type ManagerHarness,
} from '../support/sandbox.ts';

const services = inject('services');

describe.skipIf(services.sandboxImage === undefined)('hostile code against the protocol', () => {
  let harness: ManagerHarness;

  beforeAll(async () => {
    harness = await startManager({ poolSize: 0 });
  });

  afterAll(async () => {
    expect(await harness.close()).toBe(0);
  });

  it('ignores garbage written to the protocol descriptor', async () => {
    const sandbox = harness.manager.session('hostile:garbage');
    const outcome = await run(
      sandbox,
      [
        'import os',
        'for fd in range(3, 8):',
        '    try:',
        '        os.write(fd, b"not json\\n{\\"type\\": \\"bogus\\"}\\n")',
        '    except OSError:',
        '        pass',
        '"survived"',
      ].join('\n'),
    );
    expect(outcome.status).toBe('ok');
    expect(lastResult(outcome)).toBe("'survived'");
  });

  it('kills the sandbox, not the worker, when a frame grows without end', async () => {
    const sandbox = harness.manager.session('hostile:flood-protocol');
    const outcome = await run(
      sandbox,
      [
        'import os, fcntl',
        'chunk = b"x" * (1 << 20)',
        'for fd in range(3, 8):',
        '    try:',
        '        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_WRONLY:',
        // Counted: under gVisor a write to the protocol pipe may take only part of a chunk.
        '            written = 0',
        '            while written < 40 * len(chunk):',
        '                written += os.write(fd, chunk)',
        '    except OSError:',
        '        pass',
      ].join('\n'),
    );
    expect(outcome.status).toBe('killed');
    expect(outcome.kernelRestarted).toBe(true);
    expect(lastResult(await run(sandbox, '"fresh"'))).toBe("'fresh'");
  });
});

describe.skipIf(services.sandboxImage === undefined)('a kernel container on its own', () => {
  let scope: DockerTestScope;

  beforeAll(() => {
    scope = dockerTestScope();
  });

  afterAll(async () => {
    await scope.cleanup();
  });

  it('exits by itself after idling, so a dead worker leaves nothing running', async () => {
    const kernel = await KernelContainer.create({
      docker: scope.docker,
      limits: testSandboxSettings(),
      labels: scope.labels,
      idleExitS: 1,
      logger: quietLogger,
    });
    // Nothing is sent to it: the only way this resolves is the container exiting by itself.
    const exit = await new Promise<ExitInfo>((resolve) => kernel.onExit(resolve));
    expect(exit).toMatchObject({ reason: 'exited', oomKilled: false, exitCode: 0 });
    const info = await kernel.container.inspect();
    expect(info.State.Running).toBe(false);
    await kernel.destroy();
  });

  it('refuses to copy out a symlink, even when asked for it directly', async () => {
    const kernel = await KernelContainer.create({
      docker: scope.docker,
      limits: testSandboxSettings(),
      labels: scope.labels,
      idleExitS: 120,
      logger: quietLogger,
    });
    try {
      await new Promise<void>((resolve) => {
        kernel.subscribe('mk', (frame) => {
          if (frame.type === 'done') resolve();
        });
        kernel.send({
          type: 'execute',
          id: 'mk',
          code: 'import os\nos.symlink("/etc/passwd", "/mnt/data/pw")',
          outputLimitBytes: 1000,
        });
      });
      const fetched = await kernel.getFile('pw', 1024 * 1024);
      expect(fetched.kind).toBe('skipped');
    } finally {
      await kernel.destroy();
    }
  });
});

describe.skipIf(services.sandboxImage === undefined)('under gVisor (SANDBOX_RUNTIME=runsc)', () => {
  it('runs cells, keeps state, moves files in and out, and has no network', async () => {
    const harness = await startManager({ runtime: 'runsc', poolSize: 0 });
    try {
      const sandbox = harness.manager.session('gvisor:basics');
      await sandbox.upload([{ name: 'in.txt', content: Buffer.from('abc') }]);
      await run(sandbox, 'text = open("/mnt/data/in.txt").read()');
      const outcome = await run(
        sandbox,
        [
          'import os, socket',
          'open("/mnt/data/out.txt", "w").write(text.upper())',
          'try:',
          '    socket.create_connection(("1.1.1.1", 53), timeout=2); print("connected")',
          'except OSError:',
          '    print("offline")',
          'os.uname().release',
        ].join('\n'),
      );
      expect(outcome.status).toBe('ok');
      expect(outcome.stdout).toBe('offline\n');
      expect(outcome.files.map((f) => [f.path, f.content.toString()])).toEqual([
        ['out.txt', 'ABC'],
      ]);
      // gVisor reports its own kernel version, not the host's.
      expect(lastResult(outcome)).toBe("'4.4.0'");
      // Without Docker's init the runner is PID 1; SIGINT still interrupts and keeps state.
      const stopped = await runStoppedOnOutput(
        sandbox,
        'import time\nprint("sleeping", flush=True)\ntime.sleep(60)',
        'sleeping',
      );
      expect(stopped.stdout).toBe('sleeping\n');
      expect(stopped.status).toBe('interrupted');
      expect(lastResult(await run(sandbox, 'text'))).toBe("'abc'");
    } finally {
      expect(await harness.close()).toBe(0);
    }
  });
});
