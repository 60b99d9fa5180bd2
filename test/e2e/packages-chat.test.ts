import { execFile, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai-server.ts';
import { serveIndex } from '../support/package-index.ts';

const services = inject('services');
const execute = promisify(execFile);
const BIN = join(process.cwd(), 'bin/sandbot.js');

describe.skipIf(services.sandboxImage === undefined)(
  'install and packages through the real bot (sandbot chat, embedded mode)',
  () => {
    let index: Awaited<ReturnType<typeof serveIndex>>;
    let dir: string;
    let fake: FakeOpenAI;
    const env = (extra: Record<string, string> = {}) => ({
      ...process.env,
      REDIS_URL: '',
      OPENAI_API_KEY: '',
      OPENAI_BASE_URL: '',
      SANDBOX_POOL_SIZE: '0',
      SANDBOX_MEMORY_MB: '384',
      LOG_LEVEL: 'warn',
      USER: 'tester',
      ...extra,
    });

    beforeAll(async () => {
      index = await serveIndex();
      fake = await startFakeOpenAI();
      dir = await mkdtemp(join(tmpdir(), 'sandbot-packages-'));
    });

    afterAll(async () => {
      index.server.close();
      await fake.close();
    });

    it(
      'installs an allowlisted package with its dependency, refuses one off the list by name, lists them, and the thread imports it',
      { timeout: 180_000 },
      async () => {
        const child = spawn(process.execPath, [BIN, 'chat'], {
          cwd: dir,
          env: env({ SANDBOX_PACKAGE_INDEX: index.url, SANDBOX_PACKAGES: 'sbtiny, sbdep>=1.0' }),
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.stdin.write('install sbtiny sbwild\n');
        child.stdin.write('packages\n');
        child.stdin.write('run import sbtiny; print(sbtiny.ANSWER)\n');
        child.stdin.write('exit\n');
        const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
        expect(code, stderr).toBe(0);
        expect(stdout).toContain('Installed (importable now): sbtiny 1.0, sbdep 1.1.');
        expect(stdout).toContain(
          "Not installed: sbwild: sbwild is not on this bot's package allowlist.",
        );
        expect(stdout).toContain('Installed in this thread:\n- sbdep 1.1\n- sbtiny 1.0');
        expect(stdout).toContain('```\n42\n```');
      },
    );

    it('says packages cannot be installed when there is no package index', async () => {
      const { stdout } = await execute(process.execPath, [BIN, 'chat', '-m', 'install sbtiny'], {
        cwd: dir,
        env: env({ SANDBOX_PACKAGE_INDEX: '' }),
      });
      expect(stdout).toContain('Packages cannot be installed here');
    });

    /** The names of the tools a model request offered, and its messages' tool results. */
    const toolNames = (n: number) =>
      (
        (fake.requests[n]?.body.tools ?? []) as {
          function: { name: string; description: string };
        }[]
      ).map((t) => t.function);
    const toolResults = (n: number) =>
      ((fake.requests[n]?.body.messages ?? []) as { role: string; content: unknown }[])
        .filter((m) => m.role === 'tool')
        .map((m) => String(m.content));

    it(
      "the model's install_packages installs with the allowlist in its description; the result says what and why",
      { timeout: 180_000 },
      async () => {
        const first = fake.requests.length;
        fake.script(
          {
            kind: 'tool',
            calls: [{ name: 'install_packages', arguments: '{"packages": ["sbtiny", "sbwild"]}' }],
          },
          {
            kind: 'tool',
            calls: [
              { name: 'python', arguments: '{"code": "import sbtiny; print(sbtiny.ANSWER)"}' },
            ],
          },
          { kind: 'text', text: 'sbtiny says 42.' },
        );
        const { stdout } = await execute(
          process.execPath,
          [BIN, 'chat', '-m', 'use sbtiny please'],
          {
            cwd: dir,
            env: env({
              OPENAI_BASE_URL: fake.baseUrl,
              OPENAI_API_KEY: 'test',
              OPENAI_MODEL: 'fake-model',
              SANDBOX_PACKAGE_INDEX: index.url,
              SANDBOX_PACKAGES: 'sbtiny,sbdep',
            }),
          },
        );
        expect(stdout).toContain('sbtiny says 42.');
        const offered = toolNames(first);
        expect(offered.map((t) => t.name)).toEqual(['python', 'install_packages']);
        expect(offered[1]?.description).toContain('Allowed: sbtiny, sbdep.');
        const system = (fake.requests[first]?.body.messages[0] ?? {}) as { content?: string };
        expect(system.content).toContain('call `install_packages`');
        const [installed] = toolResults(first + 1);
        expect(installed).toContain('Installed (importable now): sbtiny 1.0, sbdep 1.1.');
        expect(installed).toContain(
          "Not installed: sbwild: sbwild is not on this bot's package allowlist.",
        );
        expect(toolResults(first + 2)[1]).toContain('42');
      },
    );

    it('offers the model no install_packages without a package index', async () => {
      const first = fake.requests.length;
      fake.script({ kind: 'text', text: 'Only what the image has.' });
      await execute(process.execPath, [BIN, 'chat', '-m', 'can you install things?'], {
        cwd: dir,
        env: env({
          OPENAI_BASE_URL: fake.baseUrl,
          OPENAI_API_KEY: 'test',
          OPENAI_MODEL: 'fake-model',
          SANDBOX_PACKAGE_INDEX: '',
        }),
      });
      expect(toolNames(first).map((t) => t.name)).toEqual(['python']);
    });
  },
);
