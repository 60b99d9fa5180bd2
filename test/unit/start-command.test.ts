import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';

function context(env: Record<string, string>) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return {
    value: {
      env,
      stdout,
      stderr,
      stdin: new PassThrough(),
      nodeVersion: 'v24.0.0',
      signal: AbortSignal.abort(),
    },
    output: () => ({ out, err }),
  };
}

describe('sandbot start', () => {
  it('refuses to serve the playground beyond loopback without a token', async () => {
    const ctx = context({ HTTP_HOST: '0.0.0.0', PLAYGROUND: 'on' });
    expect(await main(['start'], ctx.value)).toBe(78);
    expect(ctx.output().err).toMatch(/set PLAYGROUND_TOKEN/);
  });

  it('says what to do when Docker is unreachable in the embedded mode', async () => {
    // dockerode reads DOCKER_HOST from the process environment, like the docker CLI.
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
    try {
      const ctx = context({});
      expect(await main(['start'], ctx.value)).toBe(69);
      expect(ctx.output().err).toMatch(/unreachable/);
      expect(ctx.output().err).toMatch(/install Docker/);
      expect(ctx.output().err).toMatch(/sandbot doctor/);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });

  it('runs without the playground (rather than exiting) when it is only the default off loopback', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
    try {
      const ctx = context({ HTTP_HOST: '0.0.0.0' });
      // It gets past the playground check and stops at Docker, which this test lacks.
      expect(await main(['start'], ctx.value)).toBe(69);
      expect(ctx.output().err).toMatch(/not serving the playground: .*PLAYGROUND_TOKEN/);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });

  it('exits 78 for a split BOT_ROLE without REDIS_URL, naming both settings', async () => {
    const ctx = context({ BOT_ROLE: 'turns' });
    expect(await main(['start'], ctx.value)).toBe(78);
    expect(ctx.output().err).toMatch(/BOT_ROLE: expected .*REDIS_URL/);
  });

  it('rejects unknown options with the usage', async () => {
    const ctx = context({});
    expect(await main(['start', '--fast'], ctx.value)).toBe(2);
    expect(ctx.output().err).toMatch(/unknown option --fast/);
  });

  it('is listed in the command overview', async () => {
    const ctx = context({});
    expect(await main(['--help'], ctx.value)).toBe(0);
    expect(ctx.output().out).toMatch(/start\s+run the bot/);
  });
});
