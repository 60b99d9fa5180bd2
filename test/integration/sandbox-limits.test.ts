import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LABEL } from '../../src/sandbox/labels.ts';
import { SandboxManager } from '../../src/sandbox/sandbox-manager.ts';
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

describe.skipIf(services.sandboxImage === undefined)('sandbox limits and faults', () => {
  let harness: ManagerHarness;

  beforeAll(async () => {
    harness = await startManager({ cellTimeoutMs: 4000, poolSize: 1 });
  });

  afterAll(async () => {
    expect(await harness.close()).toBe(0);
  });

  it('interrupts a long cell on request and keeps earlier variables', async () => {
    const sandbox = harness.manager.session('limits:interrupt');
    await run(sandbox, 'kept = "yes"');
    const outcome = await runStoppedOnOutput(
      sandbox,
      'import time\nprint("sleeping", flush=True)\ntime.sleep(60)',
      'sleeping',
    );
    expect(outcome.stdout).toBe('sleeping\n');
    expect(outcome.status).toBe('interrupted');
    expect(outcome.kernelRestarted).toBe(false);
    expect(outcome.error?.ename).toBe('KeyboardInterrupt');
    expect(lastResult(await run(sandbox, 'kept'))).toBe("'yes'");
  });

  it('does not run a cell whose stop came before it started', async () => {
    const sandbox = harness.manager.session('limits:stopped-early');
    const controller = new AbortController();
    controller.abort();
    const outcome = await run(sandbox, 'ran = True', { signal: controller.signal });
    expect(outcome.status).toBe('interrupted');
    expect(outcome.notices.join(' ')).toMatch(/nothing ran/);
    const check = await run(sandbox, "'ran' in globals()");
    expect(lastResult(check)).toBe('False');
  });

  it('stops a cell at the time limit and keeps state when it obeys SIGINT', async () => {
    const sandbox = harness.manager.session('limits:timeout-soft');
    await run(sandbox, 'kept = 7');
    const outcome = await run(sandbox, 'import time\ntime.sleep(60)', { timeoutMs: 800 });
    expect(outcome.status).toBe('timeout');
    expect(outcome.kernelRestarted).toBe(false);
    expect(outcome.notices.join(' ')).toMatch(/time limit; variables from earlier cells are kept/);
    expect(lastResult(await run(sandbox, 'kept'))).toBe('7');
  });

  it('kills a cell that ignores SIGINT at the deadline; the next cell runs in a fresh kernel and says so', async () => {
    const sandbox = harness.manager.session('limits:timeout-hard');
    await run(sandbox, 'lost = 1');
    const outcome = await run(
      sandbox,
      'import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.1)',
      { timeoutMs: 800 },
    );
    expect(outcome.status).toBe('timeout');
    expect(outcome.kernelRestarted).toBe(true);
    expect(outcome.notices.join(' ')).toMatch(/kernel was killed/);
    const next = await run(sandbox, "'lost' in globals()");
    expect(next.status).toBe('ok');
    expect(next.kernelRestarted).toBe(true);
    expect(next.notices.join(' ')).toMatch(/kernel was restarted/);
    expect(lastResult(next)).toBe('False');
  });

  it('reports a memory bomb as oom, and the session recovers', async () => {
    const sandbox = harness.manager.session('limits:memory');
    const outcome = await run(
      sandbox,
      'hog = []\nwhile True:\n    hog.append(bytearray(50 * 1024 * 1024))',
    );
    expect(outcome.status).toBe('oom');
    expect(outcome.kernelRestarted).toBe(true);
    expect(outcome.notices.join(' ')).toMatch(/ran out of memory/);
    expect(lastResult(await run(sandbox, '2 + 2'))).toBe('4');
  });

  it('contains a fork bomb with the process limit', async () => {
    const sandbox = harness.manager.session('limits:fork');
    const outcome = await run(
      sandbox,
      [
        'import subprocess',
        'procs, failed = [], None',
        'try:',
        '    for _ in range(500):',
        '        procs.append(subprocess.Popen(["sleep", "30"]))',
        'except OSError as e:',
        '    failed = type(e).__name__',
        'print(len(procs) < 500, failed)',
        'for p in procs:',
        '    p.kill(); p.wait()',
      ].join('\n'),
      { timeoutMs: 20_000 },
    );
    expect(outcome.stdout).toMatch(/^True (BlockingIOError|OSError)/);
    expect(lastResult(await run(sandbox, '"alive"'))).toBe("'alive'");
  });

  it('gives ENOSPC when /mnt/data is full, and the session stays usable', async () => {
    const sandbox = harness.manager.session('limits:disk');
    const outcome = await run(
      sandbox,
      [
        'import errno',
        'try:',
        '    with open("/mnt/data/fill.bin", "wb") as f:',
        '        for _ in range(200):',
        '            f.write(b"x" * 1024 * 1024)',
        'except OSError as e:',
        '    print(errno.errorcode[e.errno])',
      ].join('\n'),
    );
    expect(outcome.stdout.trim()).toMatch(/^(ENOSPC|EFBIG)$/);
    // The file is over the copy-out limit: it is named, not sent.
    expect(outcome.files).toHaveLength(0);
    expect(outcome.notices.join(' ')).toMatch(/fill\.bin was not sent/);
    const after = await run(
      sandbox,
      'import os\nos.remove("/mnt/data/fill.bin")\nopen("/mnt/data/ok.txt","w").write("ok")',
    );
    expect(after.status).toBe('ok');
    expect(after.files.map((f) => f.path)).toEqual(['ok.txt']);
  });

  it('recovers when user code kills the runner from inside', async () => {
    const sandbox = harness.manager.session('limits:suicide');
    // PID 1 is our lifetime init, whose uids the user cannot signal: this is harmless.
    const first = await run(
      sandbox,
      'import os\ntry:\n    os.kill(1, 9)\nexcept OSError as e:\n    print(type(e).__name__)\n"after"',
    );
    expect(first.status).toBe('ok');
    const outcome = await run(sandbox, 'import os\nos._exit(3)');
    expect(outcome.status).toBe('killed');
    expect(outcome.kernelRestarted).toBe(true);
    const next = await run(sandbox, '"back"');
    expect(lastResult(next)).toBe("'back'");
    expect(next.kernelRestarted).toBe(true);
  });

  it('resets to a fresh kernel with an empty /mnt/data', async () => {
    const sandbox = harness.manager.session('limits:reset');
    await run(sandbox, 'y = 1\nopen("/mnt/data/f.txt","w").write("x")');
    await sandbox.reset();
    const outcome = await run(sandbox, 'import os\n("y" in globals(), os.listdir("/mnt/data"))');
    expect(lastResult(outcome)).toBe('(False, [])');
  });
});

describe.skipIf(services.sandboxImage === undefined)('sandbox lifecycle', () => {
  it('serves a new session from the warm pool and refills it', async () => {
    const harness = await startManager({ poolSize: 1 });
    try {
      await harness.manager.pool.whenFull();
      const sandbox = harness.manager.session('pool:first');
      const outcome = await run(sandbox, '1 + 1');
      expect(lastResult(outcome)).toBe('2');
      await harness.manager.pool.whenFull();
      expect(harness.manager.pool.readyCount).toBe(1);
    } finally {
      expect(await harness.close()).toBe(0);
    }
  });

  it('reaps idle sessions and removes their containers', async () => {
    const harness = await startManager({ poolSize: 0 });
    try {
      const sandbox = harness.manager.session('reap:idle');
      await run(sandbox, '1');
      expect(await harness.scope.leftovers()).toBe(1);
      expect(await harness.manager.reapIdle(Date.now() + 60 * 60_000)).toBe(1);
      expect(harness.manager.has('reap:idle')).toBe(false);
      expect(await harness.scope.leftovers()).toBe(0);
    } finally {
      await harness.close();
    }
  });

  it('removes containers a previous run of the same worker left behind', async () => {
    const workerId = `orphan-test-${Date.now()}`;
    const first = await startManager({ poolSize: 0 }, workerId);
    await run(first.manager.session('orphan:a'), '1');
    // Simulate a crash: the manager never closes, its container stays.
    const running = await first.scope.docker.listContainers({
      filters: { label: [`${LABEL.worker}=${workerId}`] },
    });
    expect(running).toHaveLength(1);
    // The same worker restarted: same WORKER_ID, same deployment (the first one's labels).
    const second = new SandboxManager({
      docker: first.scope.docker,
      settings: testSandboxSettings({ poolSize: 0 }),
      workerId,
      sessionIdleMs: 10 * 60_000,
      logger: quietLogger,
      labels: first.scope.labels,
    });
    await second.start();
    try {
      const after = await first.scope.docker.listContainers({
        all: true,
        filters: { label: [`${LABEL.worker}=${workerId}`] },
      });
      expect(after).toHaveLength(0);
    } finally {
      await second.close();
      await first.scope.cleanup();
    }
  });
});
