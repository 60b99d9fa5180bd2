import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/core/config.ts';
import { parseConfig } from '../../src/config/config.ts';
import {
  checkDiscord,
  checkModel,
  checkNode,
  checkPlayground,
  checkRuntime,
} from '../../src/doctor/checks.ts';
import { manifestBotScopes } from '../../src/doctor/platforms/slack-scopes.ts';
import { runDoctor } from '../../src/doctor/run-doctor.ts';
import { startFakeOpenAI } from '../fakes/fake-openai-server.ts';

const run = promisify(execFile);
const unreachableDocker = new Docker({ socketPath: '/nonexistent/docker.sock' });

describe('sandbot doctor', () => {
  it('names every missing piece and its fix on a machine with nothing configured', async () => {
    const results = await runDoctor({
      env: { REDIS_URL: 'redis://127.0.0.1:1' },
      nodeVersion: 'v24.0.0',
      docker: unreachableDocker,
    });
    const byName = new Map(results.map((r) => [r.name, r]));
    expect(byName.get('Docker engine')).toMatchObject({ status: 'fail' });
    expect(byName.get('Docker engine')?.fix).toMatch(/install Docker/);
    expect(byName.get('sandbox image')).toMatchObject({ status: 'fail' });
    expect(byName.get('sandbox image')?.fix).toMatch(/sandbox:build/);
    expect(byName.get('Redis')).toMatchObject({ status: 'fail' });
    expect(byName.get('Redis')?.fix).toMatch(/redis-server/);
    expect(byName.get('model')).toMatchObject({ status: 'warn' });
    for (const result of results) {
      if (result.status === 'fail' || result.status === 'warn') expect(result.fix).toBeTruthy();
    }
  });

  it('reports bad settings by name and still checks the rest with defaults', async () => {
    const results = await runDoctor({
      env: { HTTP_PORT: 'abc', OPENAI_API_KEY: 'sk-secret' },
      nodeVersion: 'v24.0.0',
      docker: unreachableDocker,
      offline: true,
    });
    expect(results.find((r) => r.name === 'setting HTTP_PORT')).toMatchObject({ status: 'fail' });
    expect(results.find((r) => r.name === 'model')).toMatchObject({ status: 'ok' });
    expect(JSON.stringify(results)).not.toContain('sk-secret');
  });

  it('does not check Redis, nor claim the embedded mode, after a bad REDIS_URL', async () => {
    const results = await runDoctor({
      env: { REDIS_URL: 'not a url' },
      nodeVersion: 'v24.0.0',
      docker: unreachableDocker,
      offline: true,
    });
    expect(results.find((r) => r.name === 'setting REDIS_URL')).toMatchObject({ status: 'fail' });
    expect(results.find((r) => r.name === 'Redis')?.detail).toMatch(/not checked/);
    expect(results.filter((r) => r.name === 'Redis' || r.name === 'workers')).toHaveLength(1);
  });

  it('says which model server did not answer in time, and contacts none with offline', async () => {
    const openai = await startFakeOpenAI();
    try {
      openai.script({ kind: 'hang' });
      const env = { OPENAI_BASE_URL: openai.baseUrl, OPENAI_MODEL: 'fake-model' };
      const deps = { env, nodeVersion: 'v24.0.0', docker: unreachableDocker, timeoutMs: 500 };
      const results = await runDoctor(deps);
      expect(results.find((r) => r.name === 'model tools')).toMatchObject({
        status: 'fail',
        detail: expect.stringMatching(/no answer in time/) as unknown,
      });
      const before = openai.requests.length;
      const offline = await runDoctor({ ...deps, offline: true });
      expect(offline.find((r) => r.name === 'model')?.detail).toMatch(/not contacted/);
      expect(openai.requests.length).toBe(before);
    } finally {
      await openai.close();
    }
  });

  it("compares Slack's granted scopes with the manifest's bot scopes", () => {
    const scopes = manifestBotScopes();
    expect(scopes).toEqual(
      expect.arrayContaining(['app_mentions:read', 'chat:write', 'files:write']),
    );
    for (const scope of scopes) expect(scope).toMatch(/^[a-z_]+(:[a-z_.]+)?$/);
  });

  it('agrees with start about the playground off loopback', () => {
    const config = (env: Record<string, string>): Config => {
      const parsed = parseConfig(env);
      if (!parsed.ok) throw new Error('bad test settings');
      return parsed.config;
    };
    expect(checkPlayground(config({})).status).toBe('ok');
    expect(checkPlayground(config({ HTTP_HOST: '0.0.0.0' }))).toMatchObject({
      status: 'warn',
      fix: expect.stringMatching(/PLAYGROUND_TOKEN/) as unknown,
    });
    expect(checkPlayground(config({ HTTP_HOST: '0.0.0.0', PLAYGROUND: 'on' })).status).toBe('fail');
    const token = 'x'.repeat(24);
    expect(checkPlayground(config({ HTTP_HOST: '0.0.0.0', PLAYGROUND_TOKEN: token })).status).toBe(
      'ok',
    );
    expect(checkPlayground(config({ PLAYGROUND: 'off' })).status).toBe('info');
  });

  it('refuses a Node.js without type stripping', () => {
    expect(checkNode('v20.20.2')).toMatchObject({ status: 'fail' });
    expect(checkNode('v22.18.0')).toMatchObject({ status: 'ok' });
    expect(checkNode('v24.21.0')).toMatchObject({ status: 'ok' });
  });

  it('says how to register gVisor when SANDBOX_RUNTIME=runsc is not known to Docker', () => {
    const result = checkRuntime('runsc', { reachable: true, runtimes: ['runc'] });
    expect(result.status).toBe('fail');
    expect(result.fix).toMatch(/daemon\.json/);
    expect(checkRuntime('runsc', { reachable: true, runtimes: ['runc', 'runsc'] }).status).toBe(
      'ok',
    );
  });

  it('notices a Discord token from another application', () => {
    const appId = '123456789012345678';
    const token = `${Buffer.from(appId).toString('base64url')}.GaBcDe.abcdefghijklmnopqrstuvwxyz0123`;
    expect(checkDiscord({ token, appId, apiUrl: undefined, guildId: undefined }).status).toBe('ok');
    expect(
      checkDiscord({ token, appId: '987654321098765432', apiUrl: undefined, guildId: undefined })
        .status,
    ).toBe('fail');
  });

  it('accepts a compatible server without an API key', () => {
    const result = checkModel({
      apiKey: undefined,
      baseUrl: 'http://localhost:11434/v1',
      model: 'llama3',
    });
    expect(result.status).toBe('ok');
  });

  it(
    'exits non-zero from the real command when something required is missing',
    PROCESS_GUARD,
    async () => {
      const failure = await run(process.execPath, ['bin/sandbot.js', 'doctor'], {
        env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock', REDIS_URL: '' },
      }).catch((error: unknown) => error as { code: number; stdout: string });
      expect(failure).toMatchObject({ code: 1 });
      expect((failure as { stdout: string }).stdout).toMatch(/\[FAIL\] Docker engine/);
    },
  );
});

/** Each test starts the real command (Node, type stripping, the CLI's imports): on a busy
 *  machine that alone can pass the unit default of 5 s, so a hang guard fit for processes. */
const PROCESS_GUARD = { timeout: 30_000 };

describe('the sandbot command', PROCESS_GUARD, () => {
  it('prints usage and exits 2 without a command', async () => {
    const failure = await run(process.execPath, ['bin/sandbot.js']).catch(
      (error: unknown) => error as { code: number; stdout: string },
    );
    expect(failure).toMatchObject({ code: 2 });
  });

  it('exits 2 for an unknown command', async () => {
    const failure = await run(process.execPath, ['bin/sandbot.js', 'frobnicate']).catch(
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain("unknown command 'frobnicate'");
  });

  it('has --help for each command', async () => {
    for (const command of ['doctor', 'exec']) {
      const { stdout } = await run(process.execPath, ['bin/sandbot.js', command, '--help']);
      expect(stdout).toMatch(new RegExp(`^Usage: sandbot ${command}`));
    }
  });

  it('stops on a bad setting with exit 78 and one line naming it', async () => {
    const failure = await run(process.execPath, ['bin/sandbot.js', 'exec', '-c', '1'], {
      env: { ...process.env, SANDBOX_MEMORY_MB: 'lots' },
    }).catch((error: unknown) => error as { code: number; stderr: string });
    expect(failure).toMatchObject({ code: 78 });
    expect((failure as { stderr: string }).stderr).toContain('SANDBOX_MEMORY_MB: expected');
  });
});
