import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/conversation/parse-message.ts';
import { startFakeDiscord, type FakeDiscord } from '../fakes/fake-discord-server.ts';

const run = promisify(execFile);

interface RegisteredOption {
  name: string;
  type: number;
  required?: boolean;
  options?: RegisteredOption[];
}
type RegisteredCommand = { name: string; type?: number; options?: RegisteredOption[] };
const SCRIPT = join(process.cwd(), 'adapters/discord/register-commands.ts');

/** `npm run discord:register`, run as a person would, in a directory without a .env. */
async function register(env: Record<string, string>, cwd: string) {
  try {
    const { stdout, stderr } = await run(process.execPath, [SCRIPT], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run discord:register', () => {
  let discord: FakeDiscord;
  let cwd: string;

  beforeAll(async () => {
    discord = await startFakeDiscord();
    cwd = await mkdtemp(join(tmpdir(), 'sandbot-discord-register-'));
  });

  afterAll(async () => {
    await discord.close();
  });

  const settings = () => ({
    DISCORD_TOKEN: discord.token,
    DISCORD_APP_ID: discord.appId,
    DISCORD_API_URL: discord.apiUrl,
  });

  it('registers /sandbot with every core command as a subcommand, and the message command, in the development server', async () => {
    const result = await register({ ...settings(), DISCORD_GUILD_ID: discord.guildId }, cwd);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `^Registered /sandbot \\(ask, run, .*\\) and the message command "Analyze with sandbot" in server ${discord.guildId}`,
      ),
    );
    expect(result.stdout).toContain('No old commands to remove.');
    const registered = discord.commands.guild(discord.guildId) as RegisteredCommand[];
    expect(registered.map((c) => c.name).sort()).toEqual(['Analyze with sandbot', 'sandbot']);
    expect(registered.find((c) => c.name === 'Analyze with sandbot')?.type).toBe(3);
    const sandbot = registered.find((c) => c.name === 'sandbot');
    const subcommands = sandbot?.options ?? [];
    expect(subcommands.every((o) => o.type === 1)).toBe(true);
    expect(subcommands.map((o) => o.name).sort()).toEqual(['ask', ...COMMANDS].sort());
    expect(subcommands.find((o) => o.name === 'run')?.options).toEqual([
      expect.objectContaining({ name: 'code', type: 3, required: false }),
    ]);
    expect(subcommands.find((o) => o.name === 'ask')?.options).toEqual([
      expect.objectContaining({ name: 'prompt', type: 3, required: true }),
      expect.objectContaining({ name: 'file', type: 11, required: false }),
    ]);
    const put = discord.requests.find(
      (r) => r.route === 'PUT /applications/:app/guilds/:guild/commands',
    );
    expect(put?.status).toBe(200);
    expect(discord.commands.global).toEqual([]);
  });

  it('replaces the old top-level commands it registered before, and says which went', async () => {
    // What earlier versions registered: one top-level command per core command.
    const old = await fetch(
      `${discord.apiUrl}/v10/applications/${discord.appId}/guilds/${discord.guildId}/commands`,
      {
        method: 'PUT',
        headers: { authorization: `Bot ${discord.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(COMMANDS.map((name) => ({ name, description: name, type: 1 }))),
      },
    );
    expect(old.status).toBe(200);
    const result = await register({ ...settings(), DISCORD_GUILD_ID: discord.guildId }, cwd);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `Removed the old commands ${COMMANDS.map((name) => `/${name}`).join(', ')}: use /sandbot instead.`,
    );
    const names = (discord.commands.guild(discord.guildId) as RegisteredCommand[]).map(
      (c) => c.name,
    );
    expect(names.sort()).toEqual(['Analyze with sandbot', 'sandbot']);
  });

  it('registers globally without DISCORD_GUILD_ID', async () => {
    const result = await register(settings(), cwd);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('globally');
    const sandbot = (discord.commands.global as RegisteredCommand[]).find(
      (c) => c.name === 'sandbot',
    );
    expect(sandbot?.options?.map((o) => o.name)).toContain('export');
  });

  it('says what is missing, and fails, without a token or application id', async () => {
    const result = await register({ DISCORD_API_URL: discord.apiUrl }, cwd);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/set DISCORD_TOKEN .* and DISCORD_APP_ID/);
  });

  it('explains a refused token', async () => {
    const wrong = `${discord.token.slice(0, -4)}nope`;
    const result = await register({ ...settings(), DISCORD_TOKEN: wrong }, cwd);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Discord refused the token (401)');
  });
});
