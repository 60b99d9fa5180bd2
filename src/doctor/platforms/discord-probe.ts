import {
  ApplicationCommandType,
  DiscordAPIError,
  REST,
  Routes,
  type APIApplication,
  type APIApplicationCommand,
  type APIUser,
} from 'discord.js';
import { restBase } from '../../../adapters/discord/client.ts';
import { commandDefinitions } from '../../../adapters/discord/command-definitions.ts';
import type { Config } from '../../core/config.ts';
import { fail, ok, warn, type CheckResult } from '../check.ts';
import { rootCause } from '../root-cause.ts';

const TOKEN_FIX =
  'set DISCORD_TOKEN to the bot token (developer portal → your application → Bot → Reset Token)';

/**
 * Discord as the bot will meet it, through discord.js's REST client: the bot user behind
 * the token, the application it belongs to (which DISCORD_APP_ID must name), and the slash
 * commands registered for it against the ones the adapter answers.
 */
export async function probeDiscord(
  discord: Config['discord'],
  timeoutMs: number,
): Promise<CheckResult[]> {
  if (discord.token === undefined) return [];
  const rest = new REST({
    ...(discord.apiUrl === undefined ? {} : { api: restBase(discord.apiUrl) }),
    timeout: timeoutMs,
    retries: 0,
  }).setToken(discord.token);
  const where = discord.apiUrl ?? 'discord.com/api';
  try {
    const bot = (await rest.get(Routes.user())) as APIUser;
    const app = (await rest.get(Routes.currentApplication())) as APIApplication;
    const results = [ok('Discord', `bot ${bot.username} (${bot.id})`)];
    if (discord.appId !== undefined && discord.appId !== app.id) {
      results.push(
        fail(
          'Discord application',
          `DISCORD_TOKEN belongs to application ${app.id} (${app.name}), but DISCORD_APP_ID is ${discord.appId}`,
          'copy DISCORD_TOKEN and DISCORD_APP_ID from the same application in the Discord developer portal',
        ),
      );
      return results;
    }
    results.push(
      discord.appId === undefined
        ? warn(
            'Discord application',
            `${app.name} (${app.id}); DISCORD_APP_ID is unset`,
            `set DISCORD_APP_ID=${app.id} (npm run discord:register needs it)`,
          )
        : ok('Discord application', `${app.name} (${app.id}) matches DISCORD_APP_ID`),
    );
    results.push(await checkCommands(rest, app.id, discord.guildId));
    return results;
  } catch (error) {
    return [fail('Discord', `${where}: ${describe(error)}`, fixFor(error))];
  } finally {
    rest.clearHashSweeper();
    rest.clearHandlerSweeper();
  }
}

async function checkCommands(
  rest: REST,
  appId: string,
  guildId: string | undefined,
): Promise<CheckResult> {
  const route =
    guildId === undefined
      ? Routes.applicationCommands(appId)
      : Routes.applicationGuildCommands(appId, guildId);
  const registered = ((await rest.get(route)) as APIApplicationCommand[]).map((c) => c.name);
  // Slash commands are typed by their name with a slash; menu commands by their label.
  const missing = commandDefinitions()
    .filter((c) => !registered.includes(c.name))
    .map((c) =>
      c.type === undefined || c.type === ApplicationCommandType.ChatInput ? `/${c.name}` : c.name,
    );
  const scope = guildId === undefined ? 'globally' : `in server ${guildId}`;
  if (missing.length === 0) return ok('Discord commands', `all registered ${scope}`);
  return warn(
    'Discord commands',
    `not registered ${scope}: ${missing.join(', ')} (mentions still work)`,
    'run `npm run discord:register`',
  );
}

function describe(error: unknown): string {
  if (error instanceof DiscordAPIError)
    return `Discord answered ${error.status} (${error.message})`;
  return `could not reach Discord (${rootCause(error)})`;
}

function fixFor(error: unknown): string {
  if (error instanceof DiscordAPIError && error.status === 401) return TOKEN_FIX;
  return 'check the network path to Discord (proxy, firewall) and DISCORD_API_URL if set';
}
