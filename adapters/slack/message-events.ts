import type { App, Context } from '@slack/bolt';
import type { Logger } from '../../src/logging/logger.ts';
import { routeMessage, type BotIdentity, type MessageSource } from './message-rules.ts';
import { readSlackMessage } from './slack-message.ts';
import type { TurnStarter } from './turn-starter.ts';

export interface MessageEventsOptions {
  readonly turns: TurnStarter;
  readonly allowBotMessages: boolean;
  readonly logger: Logger;
}

/** `app_mention` and `message` events (channels, private channels, DMs, group DMs). */
export function registerMessageEvents(app: App, options: MessageEventsOptions): void {
  app.event('app_mention', async ({ event, body, context, client }) => {
    await take('mention', event, body.team_id, context, client);
  });
  // Messages in an assistant thread never get here: the Assistant middleware takes them.
  app.event('message', async ({ event, body, context, client }) => {
    await take('message', event, body.team_id, context, client);
  });

  async function take(
    source: MessageSource,
    event: unknown,
    teamId: string,
    context: Context,
    client: Parameters<TurnStarter['fromMessage']>[0]['client'],
  ): Promise<void> {
    const message = readSlackMessage(event);
    if (message === undefined) return;
    const bot = botIdentity(context);
    const route = routeMessage(message, source, bot, options.allowBotMessages);
    if (!route.answer) {
      options.logger.trace({ reason: route.reason, source }, 'Slack message not for me');
      return;
    }
    await options.turns.fromMessage({
      client,
      team: context.teamId ?? teamId,
      message,
      route,
      bot,
    });
  }
}

export function botIdentity(context: Context): BotIdentity {
  return { userId: context.botUserId, botId: context.botId };
}
