import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/config/environment.ts';

describe('reading the environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sandbot-env-'));
  const file = join(dir, '.env');
  writeFileSync(file, '# comment\nHTTP_PORT=4000\nLOG_LEVEL="debug"\n');

  it('takes settings from a .env file', () => {
    const env = readEnvironment({}, file);
    expect(env.HTTP_PORT).toBe('4000');
    expect(env.LOG_LEVEL).toBe('debug');
  });

  it('lets the real environment win over the .env file', () => {
    expect(readEnvironment({ HTTP_PORT: '5000' }, file).HTTP_PORT).toBe('5000');
  });

  it('works without a .env file', () => {
    expect(readEnvironment({ A: 'b' }, join(dir, 'missing.env'))).toEqual({ A: 'b' });
  });
});
