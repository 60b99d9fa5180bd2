import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exited, waitForOutput } from '../support/start-process.ts';
import { appMention } from '../fakes/fake-slack-payloads.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack-server.ts';

const services = inject('services');
const BIN = join(process.cwd(), 'bin/sandbot.js');

describe.skipIf(services.sandboxImage === undefined)('sandbot start with SLACK_BOT_TOKEN', () => {
  let slack: FakeSlack;

  beforeAll(async () => {
    slack = await startFakeSlack();
  });

  afterAll(async () => {
    await slack.close();
  });

  it('connects over Socket Mode, answers a mention in its thread, and stops on SIGTERM', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'sandbot-slack-start-'));
    const child = spawn(process.execPath, [BIN, 'start', '--no-build'], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_APP_TOKEN: slack.appToken,
        SLACK_API_URL: slack.apiUrl,
        HTTP_PORT: '0',
        WORKER_ID: `e2e-slack-start-${process.pid}`,
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
      // Announced once the adapter is connected; the playground stays off (a token is set).
      await waitForOutput(child, () => stdout, /sandbot is running \(slack\)/);
      expect(stdout).not.toContain('Playground:');
      const ts = slack.workspace.nextTs();
      await slack.sendEvent(
        appMention(slack.ids, {
          channel: 'C0START',
          user: 'U0ANA',
          text: `<@${slack.ids.botUserId}> run print(2 ** 10)`,
          ts,
        }),
      );
      await slack.waitFor(
        () =>
          slack.workspace.messages.find(
            (m) => m.channel === 'C0START' && m.threadTs === ts && m.text.includes('1024'),
          ),
        'the answer in the mention thread',
      );
    } finally {
      child.kill('SIGTERM');
    }
    const code = await exited(child);
    // No warning or error on the way, shutdown included (LOG_LEVEL=warn prints nothing else).
    expect(stderr).not.toMatch(/"level":[456]0/);
    expect(code).toBe(0);
  });
});
