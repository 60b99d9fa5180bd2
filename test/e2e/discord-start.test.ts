import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exited, waitForOutput } from '../support/start-process.ts';
import { startFakeDiscord, type FakeDiscord } from '../fakes/fake-discord-server.ts';

const services = inject('services');
const BIN = join(process.cwd(), 'bin/sandbot.js');

describe.skipIf(services.sandboxImage === undefined)('sandbot start with DISCORD_TOKEN', () => {
  let discord: FakeDiscord;

  beforeAll(async () => {
    discord = await startFakeDiscord();
  });

  afterAll(async () => {
    await discord.close();
  });

  it('connects to Discord, answers a DM, and ends its gateway session on SIGTERM', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'sandbot-discord-start-'));
    const child = spawn(process.execPath, [BIN, 'start', '--no-build'], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        DISCORD_TOKEN: discord.token,
        DISCORD_APP_ID: discord.appId,
        DISCORD_API_URL: discord.apiUrl,
        HTTP_PORT: '0',
        WORKER_ID: `e2e-discord-start-${process.pid}`,
        SANDBOX_IMAGE: services.sandboxImage ?? '',
        SANDBOX_POOL_SIZE: '0',
        SANDBOX_MEMORY_MB: '384',
        LOG_LEVEL: 'warn',
        ...(process.env.DOCKER_HOST === undefined ? {} : { DOCKER_HOST: process.env.DOCKER_HOST }),
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      // The announcement comes once the adapter is ready.
      await waitForOutput(child, () => stdout, /sandbot is running \(discord\)/);
      const ana = discord.createUser('ana');
      const dm = discord.openDm(ana);
      discord.postMessage({ channelId: dm, author: ana, content: 'run print(2 ** 10)' });
      await discord.waitFor('the answer', () =>
        discord
          .messages(dm)
          .find((m) => m.authorId === discord.bot.id && m.content.includes('1024')),
      );
    } finally {
      child.kill('SIGTERM');
    }
    const code = await exited(child);
    // No warning or error on the way, shutdown included (LOG_LEVEL=warn prints nothing else).
    expect(stderr).not.toMatch(/"level":[456]0/);
    expect(code).toBe(0);
    await discord.waitFor('the close', () => discord.gateway.closes.length > 0);
    expect(discord.gateway.closes.at(-1)).toBe(1000);
  });
});
