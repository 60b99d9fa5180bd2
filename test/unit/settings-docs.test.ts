import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTING_NAMES } from '../../src/config/schema.ts';

describe('settings documentation', () => {
  const envExample = readFileSync('.env.example', 'utf8');
  const readme = readFileSync('README.md', 'utf8');

  it.each(SETTING_NAMES)('.env.example and the README settings table document %s', (name) => {
    expect(envExample).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
    expect(readme).toContain(`| \`${name}\` |`);
  });
});
