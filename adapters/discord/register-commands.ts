/**
 * `npm run discord:register`: sends sandbot's commands to Discord (`/sandbot` with its
 * subcommands, and "Analyze with sandbot" on messages). With DISCORD_GUILD_ID they go to that
 * one server, where they appear at once (development); without it they are global, for every
 * server the bot is in. The set is sent with one bulk overwrite, which replaces whatever was
 * registered there before: the old top-level commands (/run, /reset, …) are removed, and the
 * output names what went.
 */
import { resolve } from 'node:path';
import { DiscordAPIError, REST, Routes } from 'discord.js';
import { formatProblems, parseConfig, type Environment } from '../../src/config/config.ts';
import { readEnvironment } from '../../src/config/environment.ts';
import { ExitCode } from '../../src/cli/exit-codes.ts';
import { restBase } from './client.ts';
import {
  commandDefinitions,
  LEGACY_COMMANDS,
  SANDBOT_COMMAND,
  ANALYZE_COMMAND,
} from './command-definitions.ts';

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
  const route =
    guildId === undefined
      ? Routes.applicationCommands(appId)
      : Routes.applicationGuildCommands(appId, guildId);
  try {
    const before = (await rest.get(route)) as RegisteredCommand[];
    // PUT is Discord's bulk overwrite: the list sent becomes the whole set in that scope.
    const after = (await rest.put(route, { body: commands })) as RegisteredCommand[];
    const where =
      guildId === undefined
        ? 'globally, for every server the bot is in (Discord may take a few minutes to show them)'
        : `in server ${guildId}; they are usable there now`;
    stdout.write(`Registered ${describe(commands)} ${where}.\n`);
    stdout.write(`${removedLine(before, after)}\n`);
    if (guildId !== undefined) {
      const global = (await rest.get(Routes.applicationCommands(appId))) as RegisteredCommand[];
      const stale = legacyNames(global);
      if (stale.length > 0) {
        stdout.write(
          `Old global commands remain (${stale.map((name) => `/${name}`).join(', ')}): \`npm run discord:register\` without DISCORD_GUILD_ID replaces them.\n`,
        );
      }
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

interface RegisteredCommand {
  readonly name: string;
}

/** `/sandbot (ask, run, …) and the message command "Analyze with sandbot"`. */
function describe(commands: ReturnType<typeof commandDefinitions>): string {
  const sandbot = commands.find((c) => c.name === SANDBOT_COMMAND);
  const options = sandbot !== undefined && 'options' in sandbot ? (sandbot.options ?? []) : [];
  const subcommands = options.map((o) => o.name).join(', ');
  return `/${SANDBOT_COMMAND} (${subcommands}) and the message command "${ANALYZE_COMMAND}"`;
}

/** What the overwrite removed, checked against what Discord now has. */
function removedLine(before: RegisteredCommand[], after: RegisteredCommand[]): string {
  const kept = new Set(after.map((c) => c.name));
  const removed = before.map((c) => c.name).filter((name) => !kept.has(name));
  const survivors = legacyNames(after);
  if (survivors.length > 0) return `Old commands still registered: ${survivors.join(', ')}.`;
  if (removed.length === 0) return 'No old commands to remove.';
  return `Removed the old commands ${removed.map((name) => `/${name}`).join(', ')}: use /${SANDBOT_COMMAND} instead.`;
}

function legacyNames(commands: RegisteredCommand[]): string[] {
  return commands.map((c) => c.name).filter((name) => LEGACY_COMMANDS.includes(name));
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
