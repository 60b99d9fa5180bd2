/**
 * `npm run discord:register`: sends sandbot's slash commands to Discord. With
 * DISCORD_GUILD_ID they go to that one server, where they appear at once (development);
 * without it they are global, for every server the bot is in. Re-running replaces the set.
 */
import { resolve } from 'node:path';
import { DiscordAPIError, REST, Routes } from 'discord.js';
import { formatProblems, parseConfig, type Environment } from '../../src/config/config.ts';
import { readEnvironment } from '../../src/config/environment.ts';
import { ExitCode } from '../../src/cli/exit-codes.ts';
import { restBase } from './client.ts';
import { commandDefinitions } from './command-definitions.ts';

interface Output {
  write(text: string): unknown;
}

export async function registerCommands(
  env: Environment,
  stdout: Output,
  stderr: Output,
): Promise<number> {
  const parsed = parseConfig(env);
  if (!parsed.ok) {
    stderr.write('discord:register: invalid settings:\n');
    for (const line of formatProblems(parsed.problems)) stderr.write(`  ${line}\n`);
    return ExitCode.Config;
  }
  const { token, appId, apiUrl, guildId } = parsed.config.discord;
  const missing = [
    ...(token === undefined ? ['DISCORD_TOKEN (the bot token, Bot page)'] : []),
    ...(appId === undefined ? ['DISCORD_APP_ID (the application id, General Information)'] : []),
  ];
  if (token === undefined || appId === undefined) {
    stderr.write(`discord:register: set ${missing.join(' and ')} in the environment or .env.\n`);
    return ExitCode.Config;
  }

  const rest = new REST(apiUrl === undefined ? {} : { api: restBase(apiUrl) }).setToken(token);
  const commands = commandDefinitions();
  const names = commands.map((c) => `/${c.name}`).join(', ');
  try {
    if (guildId !== undefined) {
      await rest.put(Routes.applicationGuildCommands(appId, guildId), { body: commands });
      stdout.write(
        `Registered ${commands.length} commands (${names}) in server ${guildId}; they are usable there now.\n`,
      );
    } else {
      await rest.put(Routes.applicationCommands(appId), { body: commands });
      stdout.write(
        `Registered ${commands.length} commands (${names}) globally, for every server the bot is in (Discord may take a few minutes to show them).\n`,
      );
    }
    return ExitCode.Ok;
  } catch (error) {
    stderr.write(`discord:register: ${explain(error, guildId)}\n`);
    return ExitCode.Failed;
  } finally {
    rest.clearHashSweeper();
    rest.clearHandlerSweeper();
  }
}

function explain(error: unknown, guildId: string | undefined): string {
  if (!(error instanceof DiscordAPIError)) {
    return `could not reach Discord: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (error.status === 401) return 'Discord refused the token (401): check DISCORD_TOKEN.';
  if (error.status === 403 || error.status === 404) {
    return guildId === undefined
      ? `Discord refused (${error.status} ${error.message}): check DISCORD_APP_ID belongs to this token.`
      : `Discord refused (${error.status} ${error.message}): is the bot in server ${guildId}, invited with the applications.commands scope, and is DISCORD_APP_ID right?`;
  }
  return `Discord answered ${error.status}: ${error.message}`;
}

if (import.meta.main) {
  process.exitCode = await registerCommands(
    readEnvironment(process.env, resolve('.env')),
    process.stdout,
    process.stderr,
  );
}
