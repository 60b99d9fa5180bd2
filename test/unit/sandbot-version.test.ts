import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

/** The system's Node when it is older than sandbot needs (Debian's Node 20 here), else none. */
const OLD_NODE = ((): string | undefined => {
  const path = '/usr/bin/node';
  if (!existsSync(path)) return undefined;
  const [major = 0, minor = 0] = execFileSync(path, ['--version'], { encoding: 'utf8' })
    .trim()
    .replace(/^v/, '')
    .split('.')
    .map(Number);
  return major < 22 || (major === 22 && minor < 18) ? path : undefined;
})();

/** PATH as a shell outside npm has it: without node_modules/.bin, so `node` is the system's. */
const SYSTEM_PATH = (process.env.PATH ?? '/usr/bin:/bin')
  .split(delimiter)
  .filter((entry) => !entry.includes('node_modules'))
  .join(delimiter);

/** These start real processes (npx, two Nodes): a hang guard for a busy machine, not a timing. */
const PROCESS_GUARD = { timeout: 30_000 };

describe('sandbot --version', PROCESS_GUARD, () => {
  it("prints package.json's version", async () => {
    const { stdout } = await run(process.execPath, ['bin/sandbot.js', '--version']);
    expect(stdout).toBe(`sandbot ${VERSION}\n`);
  });

  it('prints no EBADENGINE warning through npx from a shell on the system Node', async () => {
    const { stdout, stderr } = await run('npx', ['sandbot', '--version'], {
      env: { ...process.env, PATH: SYSTEM_PATH },
    });
    expect(stdout).toBe(`sandbot ${VERSION}\n`);
    expect(stderr).not.toMatch(/EBADENGINE|EBADDEVENGINES/);
  });

  it('prints no engine warning through npm scripts from a shell on the system Node', async () => {
    // `npm start` and `npm test` go through the same `npm run`; --help ends start at once.
    const { stdout, stderr } = await run('npm', ['start', '--', '--help'], {
      env: { ...process.env, PATH: SYSTEM_PATH },
    });
    expect(stdout).toMatch(/Usage: sandbot start/);
    expect(stderr).not.toMatch(/EBADENGINE|EBADDEVENGINES/);
  });
});

describe.skipIf(OLD_NODE === undefined)(
  'bin/sandbot.js on a Node without type stripping',
  PROCESS_GUARD,
  () => {
    it("re-runs itself with the project's Node", async () => {
      const { stdout } = await run(OLD_NODE ?? '', ['bin/sandbot.js', '--version']);
      expect(stdout).toBe(`sandbot ${VERSION}\n`);
    });

    it('says in one line what to do when the project has no Node of its own', async () => {
      const lonely = await mkdtemp(join(tmpdir(), 'sandbot-shim-'));
      try {
        await cp('bin/sandbot.js', join(lonely, 'bin/sandbot.js'));
        const failure = await run(OLD_NODE ?? '', [join(lonely, 'bin/sandbot.js'), '--version'], {
          cwd: lonely,
        }).catch((error: unknown) => error as { code: number; stdout: string; stderr: string });
        expect(failure).toMatchObject({ code: 69, stdout: '' });
        const lines = (failure as { stderr: string }).stderr.trimEnd().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/needs Node\.js 22\.18 or newer .*npm install.*npx sandbot/);
      } finally {
        await rm(lonely, { recursive: true, force: true });
      }
    });
  },
);
