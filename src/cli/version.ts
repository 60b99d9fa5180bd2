import { readFileSync } from 'node:fs';

/**
 * sandbot's version: package.json's, the one place a release number is written. Read once at
 * load (a small file next to the sources; there is no build step to stamp it in).
 */
export const SANDBOT_VERSION: string = readVersion();

function readVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const version = (JSON.parse(text) as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}
