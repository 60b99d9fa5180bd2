import type { App } from '@slack/bolt';
import { plainTextFromSlack } from './inbound-text.ts';
import { botIdentity } from './message-events.ts';
import { routeMessage } from './message-rules.ts';
import { readSlackMessage } from './slack-message.ts';
import type { UserThreads } from './user-threads.ts';

export interface ThreadRecorderOptions {
  readonly threads: UserThreads;
  readonly allowBotMessages: boolean;
}

/**
 * Notes, for the Home tab, the threads each person talks to the bot in: a global middleware
 * that reads message events with the same rules that decide whether they are answered (so
 * the assistant pane's messages, which its middleware takes, are seen too) and always lets
 * the event through. A reply without a mention counts only in a thread already noted.
 * Register before the assistant pane.
 */
export function registerThreadRecorder(app: App, options: ThreadRecorderOptions): void {
  app.use(async ({ body, context, next }) => {
    // Every kind of request passes here; read as plain fields, checked field by field.
    const envelope = body as unknown as Readonly<Record<string, unknown>>;
    const event = envelope.event;
    const type =
      typeof event === 'object' && event !== null ? (event as { type?: unknown }).type : undefined;
    if (type === 'app_mention' || type === 'message') {
      const message = readSlackMessage(event);
      const team = context.teamId ?? envelope.team_id;
      if (message?.user !== undefined && typeof team === 'string') {
        const bot = botIdentity(context);
        const source = type === 'app_mention' ? 'mention' : 'message';
        const route = routeMessage(message, source, bot, options.allowBotMessages);
        if (
          route.answer &&
          (!route.onlyIfSession || options.threads.knows(team, message.channel, route.threadTs))
        ) {
          options.threads.add(team, message.user, {
            channel: message.channel,
            threadTs: route.threadTs,
            title: plainTextFromSlack(message.text, bot.userId),
          });
        }
      }
    }
    await next();
  });
}
