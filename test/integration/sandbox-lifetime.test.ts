import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { containerSpec, volumeSpec } from '../../src/sandbox/container-spec.ts';
import { LABEL } from '../../src/sandbox/labels.ts';
import { removeContainers } from '../../src/sandbox/sandbox-manager.ts';
import { dockerTestScope } from '../support/docker.ts';
import { run as runCell, startManager, testSandboxSettings } from '../support/sandbox.ts';
import { eventually, spawnSandbot } from '../support/sandbot-process.ts';

const services = inject('services');

/** Direct mode (no REDIS_URL): the CLI drives the sandbox itself, as on a laptop. */
function cliEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return {
    ...process.env,
    REDIS_URL: undefined,
    SANDBOX_MEMORY_MB: '384',
    SANDBOX_CELL_TIMEOUT_S: '60',
    ...extra,
  };
}

interface CliRun {
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

async function sandbot(args: string[], env = cliEnv(), cwd?: string): Promise<CliRun> {
  const run = spawnSandbot(args, env, cwd === undefined ? {} : { cwd });
  const code = await run.exit(180_000);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

const GC_LINE =
  /^removed (container|volume) [\w.-]+ \((past its hard lifetime|stopped|used by no container|--all)(, session [\w.:-]+)?\)$/;

/** Every line of gc's report names one thing removed; the last counts them. */
function expectGcReport(stdout: string): void {
  const lines = stdout.trimEnd().split('\n');
  const summary = lines.pop() ?? '';
  for (const line of lines) expect(line).toMatch(GC_LINE);
  const count = (kind: string) => lines.filter((l) => l.startsWith(`removed ${kind} `)).length;
  const containers = count('container');
  const volumes = count('volume');
  expect(summary).toBe(
    `removed ${containers} container${containers === 1 ? '' : 's'} and ${volumes} volume${volumes === 1 ? '' : 's'}`,
  );
}

describe.skipIf(services.sandboxImage === undefined)('sandbox lifetimes', () => {
  const scope = dockerTestScope();
  const run = randomBytes(4).toString('hex');
  const sessions: string[] = [];
  const sessionName = (what: string) => {
    const name = `lifetime-${what}-${run}`;
    sessions.push(name);
    return name;
  };

  afterAll(async () => {
    for (const name of sessions) await removeContainers(scope.docker, { [LABEL.session]: name });
    await scope.cleanup();
  });

  /** The session's containers and volumes, in any state. */
  async function sessionLeftovers(name: string): Promise<{ containers: number; volumes: number }> {
    const label = [`${LABEL.managed}=1`, `${LABEL.session}=${name}`];
    const containers = await scope.docker.listContainers({ all: true, filters: { label } });
    const { Volumes: volumes } = await scope.docker.listVolumes({ filters: { label } });
    return { containers: containers.length, volumes: volumes.length };
  }

  async function runningState(name: string): Promise<string | undefined> {
    const label = [`${LABEL.managed}=1`, `${LABEL.session}=${name}`];
    const [found] = await scope.docker.listContainers({ all: true, filters: { label } });
    return found?.State;
  }

  /** A named session whose container then stops (its runner died, or exited when idle). */
  async function stoppedSession(what: string): Promise<string> {
    const name = sessionName(what);
    const made = await sandbot(['exec', '--session', name, '-c', 'x = 1']);
    expect(made.code, made.stderr).toBe(0);
    const label = [`${LABEL.managed}=1`, `${LABEL.session}=${name}`];
    const [container] = await scope.docker.listContainers({ filters: { label } });
    await scope.docker.getContainer(container?.Id ?? 'missing').kill();
    await eventually(
      async () => ((await runningState(name)) === 'exited' ? true : undefined),
      `the container of ${name} stopped`,
    );
    expect(await sessionLeftovers(name)).toEqual({ containers: 1, volumes: 1 });
    return name;
  }

  it('ends a container whose cell patched select.select and ignores signals, at its hard lifetime', async () => {
    const name = sessionName('hostile');
    const cell = [
      'import os, select, signal, subprocess, time',
      'signal.signal(signal.SIGTERM, signal.SIG_IGN)',
      'signal.signal(signal.SIGINT, signal.SIG_IGN)',
      // The runner waits for the next request in select.select: now it never stops waiting.
      'select.select = lambda *args, **kwargs: time.sleep(10**6)',
      "subprocess.Popen(['sleep', '100000'], start_new_session=True)",
      'for sig in (signal.SIGSTOP, signal.SIGKILL, signal.SIGALRM):',
      '    try:',
      '        os.kill(1, sig)',
      '    except PermissionError:',
      "        print('init refused', sig.name)",
      'try:',
      "    open('/proc/1/mem', 'rb')",
      'except PermissionError:',
      "    print('init memory refused')",
    ].join('\n');
    const env = cliEnv({ SANDBOX_MAX_LIFETIME_S: '45', SESSION_IDLE_MINUTES: '1' });
    const first = await sandbot(['exec', '--session', name, '--json', '-c', cell], env);
    const outcome = JSON.parse(first.stdout) as { status: string; stdout: string };
    expect(outcome.status, first.stderr).toBe('ok');
    expect(outcome.stdout).toBe(
      'init refused SIGSTOP\ninit refused SIGKILL\ninit refused SIGALRM\ninit memory refused\n',
    );
    // Nothing removes it from outside here (no sandbot process runs): its init ends it.
    await eventually(
      async () => ((await runningState(name)) !== 'running' ? true : undefined),
      `the container of ${name} ended`,
      180_000,
    );
    const gc = await sandbot(['gc', '--label', `${LABEL.session}=${name}`]);
    expect(gc.code, gc.stderr).toBe(0);
    expect(await sessionLeftovers(name)).toEqual({ containers: 0, volumes: 0 });
  }, 300_000);

  it('removes a stopped named session and its volume at the next sandbot exec', async () => {
    const name = await stoppedSession('exec');
    const next = await sandbot(['exec', '-c', 'print("next")']);
    expect(next.code, next.stderr).toBe(0);
    expect(await sessionLeftovers(name)).toEqual({ containers: 0, volumes: 0 });
  }, 240_000);

  it("a worker starting under the WORKER_ID of another deployment's worker leaves that deployment's sandboxes alone", async () => {
    const workerId = `same-host-${process.pid}`;
    const production = await startManager({ poolSize: 0 }, workerId);
    try {
      const sandbox = production.manager.session('deployments:kept');
      expect((await runCell(sandbox, 'x = 41')).error).toBeUndefined();
      // Staging on the same Docker host, same host name: its worker cleans up its own leftovers.
      const staging = await startManager({ poolSize: 0 }, workerId);
      await staging.close();
      expect((await runCell(sandbox, 'print(x + 1)')).stdout).toBe('42\n');
    } finally {
      await production.close();
    }
  }, 240_000);

  it('removes a stopped named session and its volume when a worker starts', async () => {
    const name = await stoppedSession('worker');
    const harness = await startManager({ poolSize: 0 });
    try {
      expect(await sessionLeftovers(name)).toEqual({ containers: 0, volumes: 0 });
    } finally {
      await harness.close();
    }
  }, 240_000);

  it('sandbot gc removes what is stopped or expired, prints it, and leaves live ones', async () => {
    const name = await stoppedSession('gc');
    const expired = await startPlainContainer('expired', Math.floor(Date.now() / 1000) - 1);
    const live = await startPlainContainer('live', Math.floor(Date.now() / 1000) + 3600);
    // Other sandbot processes on this host sweep too and may get there first: what is
    // asserted is that it is gone afterwards, and that gc reports exactly what it removed.
    const bySession = await sandbot(['gc', '--label', `${LABEL.session}=${name}`]);
    expect(bySession.code, bySession.stderr).toBe(0);
    expectGcReport(bySession.stdout);
    if (bySession.stdout.includes(`session ${name}`)) {
      expect(bySession.stdout).toMatch(/^removed volume sandbot-data-\w+ \(stopped\)$/m);
    }
    expect(await sessionLeftovers(name)).toEqual({ containers: 0, volumes: 0 });

    const byRun = Object.entries(scope.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
    const swept = await sandbot(['gc', ...byRun]);
    expectGcReport(swept.stdout);
    expect(swept.stdout).not.toContain(live);
    expect(await containerExists(expired)).toBe(false);
    expect(await containerExists(live)).toBe(true);
    const all = await sandbot(['gc', '--all', ...byRun]);
    expectGcReport(all.stdout);
    expect(all.stdout).toContain(`removed container ${live} (--all)\n`);
    expect(all.stdout).toContain(`removed volume sandbot-data-live-${run} (--all)\n`);
    expect(await scope.leftovers()).toBe(0);
  }, 240_000);

  async function containerExists(name: string): Promise<boolean> {
    const found = await scope.docker.listContainers({ all: true, filters: { name: [name] } });
    return found.length > 0;
  }

  /** A container labelled to expire at `expiresS` whose own init will not end it (a plain sleep). */
  async function startPlainContainer(what: string, expiresS: number): Promise<string> {
    const name = `sandbot-lifetime-${what}-${run}`;
    const labels = { ...scope.labels, [LABEL.expires]: String(expiresS) };
    const volumeName = `sandbot-data-${what}-${run}`;
    const limits = testSandboxSettings();
    await scope.docker.createVolume(volumeSpec(volumeName, limits.diskMb, labels));
    const container = await scope.docker.createContainer({
      ...containerSpec({ name, volumeName, limits, labels, idleExitS: 600 }),
      Entrypoint: ['sleep', '600'],
      Cmd: [],
      AttachStdin: false,
      OpenStdin: false,
    });
    await container.start();
    return name;
  }

  it('sandbot exec --attach refuses a symbolic link and a file over MAX_ATTACHMENT_MB', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbot-attach-'));
    await writeFile(join(dir, 'secret.txt'), 'not for the sandbox');
    await symlink(join(dir, 'secret.txt'), join(dir, 'link.txt'));
    const linked = await sandbot(['exec', '--attach', join(dir, 'link.txt'), '-c', '1']);
    expect(linked.code).toBe(2);
    expect(linked.stderr).toContain('link.txt: it is a symbolic link');

    await writeFile(join(dir, 'big.bin'), Buffer.alloc(3 * 1024 * 1024));
    const env = cliEnv({ MAX_ATTACHMENT_MB: '1' });
    const big = await sandbot(['exec', '--attach', join(dir, 'big.bin'), '-c', '1'], env);
    expect(big.code).toBe(2);
    expect(big.stderr).toContain('big.bin: it is 3.0 MB, over the 1.0 MB limit per file');
    expect(big.stderr).toContain('MAX_ATTACHMENT_MB');
  }, 60_000);

  it('sends back a file whose name starts with dots, such as ..dots.txt', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbot-dots-'));
    const cell = "open('/mnt/data/..dots.txt', 'w').write('dots')";
    const result = await sandbot(['exec', '--json', '--out', 'out', '-c', cell], cliEnv(), dir);
    const outcome = JSON.parse(result.stdout) as {
      status: string;
      files: { path: string }[];
      notices: string[];
    };
    expect(outcome.status, result.stderr).toBe('ok');
    expect(outcome.notices).toEqual([]);
    expect(outcome.files).toHaveLength(1);
    expect(await readFile(outcome.files[0]?.path ?? '', 'utf8')).toBe('dots');
  }, 120_000);
});
