/**
 * Streamed answers in the terminal: `sandbot chat` writes the answer to stderr as the model
 * writes it (released in pieces the test controls), and the whole answer once on stdout.
 */
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai-server.ts';

const services = inject('services');
const BIN = join(process.cwd(), 'bin/sandbot.js');
const PIECES = ['Streaming part one', ', then part two', ', and the end.'];
const ANSWER = PIECES.join('');

describe.skipIf(services.sandboxImage === undefined)('sandbot chat streams the answer', () => {
  let fake: FakeOpenAI;
  let dir: string;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    dir = await mkdtemp(join(tmpdir(), 'sandbot-chat-stream-'));
  });

  afterAll(async () => {
    await fake.close();
  });

  it('shows the answer on stderr as it is written, and prints it whole on stdout', async () => {
    const releases: (() => void)[] = [];
    const gates = PIECES.map((_, i) =>
      i === 0 ? undefined : new Promise<void>((resolve) => (releases[i] = resolve)),
    );
    fake.script({ kind: 'stream', chunks: PIECES, gates });
    const child = spawn(process.execPath, [BIN, 'chat', '-m', 'tell me a story'], {
      cwd: dir,
      env: {
        ...process.env,
        REDIS_URL: '',
        OPENAI_BASE_URL: fake.baseUrl,
        OPENAI_API_KEY: 'test',
        OPENAI_MODEL: 'fake-model',
        SANDBOX_POOL_SIZE: '0',
        LOG_LEVEL: 'warn',
        USER: 'tester',
      },
    });
    let stdout = '';
    let stderr = '';
    /** stdout when stderr first showed each piece. */
    const stdoutWhenShown: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // Each piece shown on stderr releases the next, so the model waits for the terminal.
      for (let i = stdoutWhenShown.length; i < PIECES.length; i += 1) {
        if (!stderr.includes(`[answering]\n${PIECES.slice(0, i + 1).join('')}`)) break;
        stdoutWhenShown.push(stdout);
        releases[i + 1]?.();
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(stdoutWhenShown).toEqual(['', '', '']);
    expect(stderr).toContain(`[answering]\n${ANSWER}\n`);
    expect(stdout).toBe(`${ANSWER}\n`);
  });
});
