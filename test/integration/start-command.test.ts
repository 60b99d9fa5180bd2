import { PassThrough } from 'node:stream';
import { describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/main.ts';

const services = inject('services');

describe.skipIf(!services.docker)('sandbot start against a real Docker engine', () => {
  it('says exactly what to do when the sandbox image is missing and building is off', async () => {
    let err = '';
    const stderr = new PassThrough();
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await main(['start', '--no-build'], {
      env: { SANDBOX_IMAGE: 'sandbot-sandbox:missing-on-purpose', HTTP_PORT: '0' },
      stdout: new PassThrough(),
      stderr,
      stdin: new PassThrough(),
      nodeVersion: process.version,
      signal: new AbortController().signal,
    });
    expect(code).toBe(69);
    expect(err).toMatch(/sandbot-sandbox:missing-on-purpose \(SANDBOX_IMAGE\) is missing/);
  });
});
