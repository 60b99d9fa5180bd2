import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The house rules eslint enforces (eslint.config.js), shown to bite: fixture code linted as if
 * it lived at a path in the tree. Only the rules under test run, without type information.
 */
const RULES = new Set([
  'no-restricted-imports',
  '@typescript-eslint/no-restricted-imports',
  'max-lines',
  'max-lines-per-function',
]);

async function lintAs(filePath: string, code: string): Promise<ESLint.LintResult['messages']> {
  const eslint = new ESLint({
    cwd: process.cwd(),
    overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
    ruleFilter: ({ ruleId }) => RULES.has(ruleId),
  });
  const [result] = await eslint.lintText(code, { filePath });
  return result?.messages ?? [];
}

/** Code placed in src/core that reaches outside it (lines 2, 4 and 5 break the rule). */
const CORE_BREAKS_THE_RULE = `// fixture
import { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { Redis } from 'ioredis';
import { SandboxManager } from '../sandbox/sandbox-manager.ts';
import { z } from 'zod';
import type { BlobRef } from './blob-store.ts';
export const used = [Queue, Redis, SandboxManager, z] as const;
export type Used = [Logger, BlobRef];
`;

describe('lint rules', () => {
  it('refuses an import from outside src/core in src/core, and libraries but zod', async () => {
    const messages = await lintAs('src/core/fixture.ts', CORE_BREAKS_THE_RULE);
    const refused = messages.map((m) => `${m.line}: ${m.message}`);
    expect(refused).toEqual([
      "2: 'bullmq' import is restricted from being used by a pattern. src/core depends on no library but zod (and types of pino and openai)",
      "4: 'ioredis' import is restricted from being used by a pattern. src/core depends on no library but zod (and types of pino and openai)",
      "5: '../sandbox/sandbox-manager.ts' import is restricted from being used by a pattern. src/core imports nothing outside src/core",
    ]);
  });

  it('lets every other folder import core', async () => {
    const code =
      "import { SandbotError } from '../core/errors.ts';\nexport const e = SandbotError;\n";
    expect(await lintAs('src/jobs/fixture.ts', code)).toEqual([]);
  });

  it('refuses a platform SDK or an adapter in core code outside the composition root', async () => {
    const code = "import { App } from '@slack/bolt';\nexport const app = App;\n";
    const messages = await lintAs('src/jobs/fixture.ts', code);
    expect(messages.map((m) => m.message)).toEqual([
      expect.stringContaining('platform SDKs belong in adapters/'),
    ]);
  });

  it('refuses a file over 300 lines and a function over 60', async () => {
    const body = Array.from({ length: 61 }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const longFunction = `export function long(): number {\n${body}\n  return v0;\n}\n`;
    const longFile = Array.from({ length: 301 }, (_, i) => `export const c${i} = ${i};`).join('\n');
    const tooLong = await lintAs('src/jobs/fixture.ts', `${longFunction}${longFile}\n`);
    expect(tooLong.map((m) => m.ruleId).sort()).toEqual(['max-lines', 'max-lines-per-function']);
  });
});
