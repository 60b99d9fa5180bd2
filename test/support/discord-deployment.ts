import type { ChildProcess } from 'node:child_process';
import type { FakeDiscord } from '../fakes/fake-discord-server.ts';
import { BotDeployment, type BotDeploymentOptions } from './bot-deployment.ts';

/**
 * A deployment (bot-deployment.ts) on the fake Discord, split by BOT_ROLE as
 * docs/production.md lays it out: gateway processes that only take events, and turn
 * processes that only answer turns over REST.
 */
export class DiscordDeployment extends BotDeployment {
  constructor(
    options: Omit<BotDeploymentOptions, 'platformEnv'> & { readonly discord: FakeDiscord },
  ) {
    const { discord, ...rest } = options;
    super({
      ...rest,
      platformEnv: {
        DISCORD_TOKEN: discord.token,
        DISCORD_APP_ID: discord.appId,
        DISCORD_API_URL: discord.apiUrl,
      },
    });
  }

  /** A `sandbot start` with BOT_ROLE=ingress, once its gateway session is ready. */
  gateway(name: string): Promise<ChildProcess> {
    return this.run(['start', '--no-build'], name, /Role: ingress/, { BOT_ROLE: 'ingress' });
  }

  /** A `sandbot start` with BOT_ROLE=turns, once its turn runner has started. */
  turns(name: string): Promise<ChildProcess> {
    return this.run(['start', '--no-build'], name, /Role: turns/, { BOT_ROLE: 'turns' });
  }
}
