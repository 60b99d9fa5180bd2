/**
 * `sandbot doctor` talks to the services, not to its own idea of them: the real command, as a
 * process, against the fake model, Slack and Discord, reached through the same settings the
 * bot uses (OPENAI_BASE_URL, SLACK_API_URL, DISCORD_API_URL). Each wrong thing a person could
 * have set up gives a failing line with its fix and exit 1; everything right gives exit 0.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeDiscord, type FakeDiscord } from '../fakes/fake-discord-server.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai-server.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack-server.ts';
import { spawnSandbot } from '../support/sandbot-process.ts';
import { SANDBOX_IMAGE } from '../support/services.ts';

const services = inject('services');
const run = promisify(execFile);

/** The bot scopes adapters/slack/manifest.yml asks for: what an install from it grants. */
const MANIFEST_SCOPES = [
  'app_mentions:read',
  'channels:history',
  'groups:history',
  'im:history',
  'mpim:history',
  'chat:write',
  'files:read',
  'files:write',
  'reactions:write',
  'commands',
  'im:write',
  'assistant:write',
  'users:read',
  'usergroups:read',
];

describe.skipIf(services.sandboxImage === undefined)('sandbot doctor against the services', () => {
  let openai: FakeOpenAI;
  let slack: FakeSlack;
  let discord: FakeDiscord;
  /** No .env here: only what each test sets. */
  let cwd: string;

  beforeAll(async () => {
    [openai, slack, discord] = await Promise.all([
      startFakeOpenAI(),
      startFakeSlack(),
      startFakeDiscord(),
    ]);
    cwd = await mkdtemp(join(tmpdir(), 'sandbot-doctor-'));
  });

  afterAll(async () => {
    await Promise.all([openai.close(), slack.close(), discord.close()]);
    await rm(cwd, { recursive: true, force: true });
  });

  const model = () => ({ OPENAI_BASE_URL: openai.baseUrl, OPENAI_MODEL: 'fake-model' });
  const slackSettings = () => ({
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_APP_TOKEN: slack.appToken,
    SLACK_API_URL: slack.apiUrl,
  });
  const discordSettings = () => ({
    DISCORD_TOKEN: discord.token,
    DISCORD_APP_ID: discord.appId,
    DISCORD_API_URL: discord.apiUrl,
  });

  async function doctor(settings: Record<string, string>) {
    const process_ = spawnSandbot(
      ['doctor'],
      {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? cwd,
        SANDBOX_IMAGE,
        ...(process.env.DOCKER_HOST === undefined ? {} : { DOCKER_HOST: process.env.DOCKER_HOST }),
        ...settings,
      },
      { cwd },
    );
    const code = await process_.exit();
    return { code, out: process_.stdout() };
  }

  /** The `[FAIL] name: …` line and the fix line under it. */
  function failing(out: string, name: string): { line: string; fix: string } | undefined {
    const lines = out.split('\n');
    const at = lines.findIndex((line) => line.startsWith(`[FAIL] ${name}: `));
    if (at < 0) return undefined;
    return { line: lines[at] ?? '', fix: (lines[at + 1] ?? '').trim() };
  }

  it('exits 0 when the model calls tools, Slack grants every scope and Discord is set up', async () => {
    slack.grantScopes(MANIFEST_SCOPES);
    await run(process.execPath, [join(process.cwd(), 'adapters/discord/register-commands.ts')], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...discordSettings() },
    });
    openai.script({ kind: 'tool', calls: [{ name: 'python', arguments: '{"code":"print(1)"}' }] });

    const { code, out } = await doctor({ ...model(), ...slackSettings(), ...discordSettings() });

    expect(out).not.toContain('[FAIL]');
    expect(code).toBe(0);
    expect(out).toMatch(/^sandbot \d+\.\d+\.\d+\S* on Node\.js v\d+/);
    for (const name of [
      'model',
      'model tools',
      'Slack',
      'Slack scopes',
      'Slack Socket Mode',
      'Discord',
      'Discord application',
      'Discord commands',
    ]) {
      expect(out).toMatch(new RegExp(`^\\[ok  \\] ${name}: `, 'm'));
    }
    expect(openai.requests.at(-1)?.body.tools).toHaveLength(1);
    // The image's own packages, as its runner lists them (the list the model is told).
    expect(out).toMatch(
      /^\[ok {2}\] sandbox image: .*version \d+\.\d+\.\d+.*, \d+ Python packages \(/m,
    );
    expect(out).toMatch(/Python packages \([^)]*\b(cairosvg|numpy|pandas)\b/);
  });

  it('fails on a model the server does not list, naming the ones it does', async () => {
    const { code, out } = await doctor({ ...model(), OPENAI_MODEL: 'gpt-made-up' });
    expect(code).toBe(1);
    expect(failing(out, 'model')).toEqual({
      line: expect.stringMatching(/gpt-made-up is not served .*fake-model/) as unknown,
      fix: expect.stringMatching(/^fix: set OPENAI_MODEL/) as unknown,
    });
  });

  it('fails on a model that rejects tools, saying so', async () => {
    openai.script({
      kind: 'status',
      status: 400,
      body: { error: { message: 'fake-model does not support tools', type: 'api_error' } },
    });
    const { code, out } = await doctor(model());
    expect(code).toBe(1);
    expect(failing(out, 'model tools')).toEqual({
      line: expect.stringMatching(/cannot call tools.*does not support tools/) as unknown,
      fix: expect.stringMatching(/^fix: choose a model that supports tool calling/) as unknown,
    });
  });

  it('fails on a Slack token Slack refuses', async () => {
    const { code, out } = await doctor({
      ...slackSettings(),
      SLACK_BOT_TOKEN: 'xoxb-1-fake-notissued',
    });
    expect(code).toBe(1);
    expect(failing(out, 'Slack')).toEqual({
      line: expect.stringMatching(/auth\.test .*invalid_auth/) as unknown,
      fix: expect.stringMatching(/^fix: set SLACK_BOT_TOKEN/) as unknown,
    });
  });

  it('fails on a Slack app installed without a scope the bot uses', async () => {
    slack.grantScopes(MANIFEST_SCOPES.filter((scope) => scope !== 'files:write'));
    const { code, out } = await doctor(slackSettings());
    expect(code).toBe(1);
    expect(failing(out, 'Slack scopes')).toEqual({
      line: expect.stringMatching(/lacks files:write$/) as unknown,
      fix: expect.stringMatching(/^fix: add the missing scopes .*reinstall/) as unknown,
    });
  });

  it('fails on a Discord token of another application than DISCORD_APP_ID', async () => {
    const { code, out } = await doctor({
      ...discordSettings(),
      DISCORD_APP_ID: '112233445566778899',
    });
    expect(code).toBe(1);
    expect(failing(out, 'Discord application')).toEqual({
      line: expect.stringMatching(
        new RegExp(
          `belongs to application ${discord.appId} .*DISCORD_APP_ID is 112233445566778899`,
        ),
      ) as unknown,
      fix: expect.stringMatching(
        /^fix: copy DISCORD_TOKEN and DISCORD_APP_ID from the same/,
      ) as unknown,
    });
  });
});
