import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai-server.ts';
import { buildDerivedImage, removeImage } from '../support/derived-image.ts';

const services = inject('services');
const run = promisify(execFile);
const BIN = join(process.cwd(), 'bin/sandbot.js');
/** Its own tag: the integration test builds and removes the :latest one. */
const DERIVED = 'sandbot-sandbox-derived-test:chat';

describe.skipIf(services.sandboxImage === undefined)(
  'sandbot chat with model settings and a derived image (embedded mode)',
  () => {
    let fake: FakeOpenAI;
    let dir: string;

    beforeAll(async () => {
      await buildDerivedImage(DERIVED, services.sandboxImage ?? '', ['python3-tabulate']);
      fake = await startFakeOpenAI();
      dir = await mkdtemp(join(tmpdir(), 'sandbot-models-'));
    }, 600_000);

    afterAll(async () => {
      await fake.close();
      await removeImage(DERIVED);
    });

    it("the first turn's prompt names the image's packages; the settings reach the request", async () => {
      const promptFile = join(dir, 'prompt.md');
      await writeFile(promptFile, 'House rule: always answer in French.\n');
      fake.script({ kind: 'text', text: "D'accord." });
      const { stdout } = await run(process.execPath, [BIN, 'chat', '-m', 'what can you use?'], {
        cwd: dir,
        env: {
          ...process.env,
          REDIS_URL: '',
          OPENAI_BASE_URL: fake.baseUrl,
          OPENAI_API_KEY: 'test',
          OPENAI_MODEL: 'fake-model',
          SANDBOX_IMAGE: DERIVED,
          // The pool's kernel is still starting when the turn begins: the prompt waits for it.
          SANDBOX_POOL_SIZE: '1',
          SANDBOX_MEMORY_MB: '384',
          SYSTEM_PROMPT_FILE: promptFile,
          MODEL_TEMPERATURE: '0.1',
          MODEL_MAX_TOKENS: '700',
          MODEL_CONTEXT_TOKENS: '8192',
          LOG_LEVEL: 'warn',
          USER: 'tester',
        },
      });
      expect(stdout).toContain("D'accord.");
      const body = fake.requests.at(-1)?.body;
      const [system] = (body?.messages ?? []) as { role: string; content: string }[];
      expect(system?.content).toMatch(/Installed Python packages: numpy, pandas, .*\btabulate\b/);
      expect(system?.content.endsWith('House rule: always answer in French.')).toBe(true);
      expect(body).toMatchObject({ temperature: 0.1, max_tokens: 700 });
    });

    it('stops at start-up, naming the setting, when the prompt file cannot be read', async () => {
      const failed = await run(process.execPath, [BIN, 'chat', '-m', 'hello'], {
        cwd: dir,
        env: { ...process.env, REDIS_URL: '', SYSTEM_PROMPT_FILE: join(dir, 'missing.md') },
      }).catch((error: unknown) => error as { code: number; stderr: string });
      expect(failed).toMatchObject({ code: 78 });
      expect((failed as { stderr: string }).stderr).toContain('SYSTEM_PROMPT_FILE: expected');
    });
  },
);
