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
    const ctx = context({ HTTP_HOST: '0.0.0.0' });
    expect(await main(['start'], ctx.value)).toBe(78);
    expect(ctx.output().err).toMatch(/set PLAYGROUND_TOKEN/);
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
