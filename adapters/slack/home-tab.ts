import type { App, webApi } from '@slack/bolt';
import type { Logger } from '../../src/logging/logger.ts';
import { homeView, type HomeLimits } from './home-view.ts';
import { slackErrorCode } from './slack-errors.ts';
import type { UserThread, UserThreads } from './user-threads.ts';

export interface HomeTabOptions {
  readonly threads: UserThreads;
  /** The person's usage today, when the core keeps usage (ConversationPort.usageToday). */
  readonly usageToday?: (userId: string) => Promise<string | undefined>;
  readonly limits: HomeLimits;
  readonly logger: Logger;
}

/**
 * The Home tab, published (views.publish) each time a person opens it and only then: no
 * polling, so what it shows is as of the last opening. Opening the Messages tab (the same
 * event with `tab: "messages"`) publishes nothing. Failures are logged, never thrown: the
 * tab then shows what was published before.
 */
export function registerHomeTab(app: App, options: HomeTabOptions): void {
  const { logger } = options;
  app.event('app_home_opened', async ({ event, body, client, context }) => {
    if (event.tab !== 'home') return;
    const team = context.teamId ?? body.team_id;
    const threads = options.threads.recent(team, event.user);
    await findPermalinks(client, threads, logger);
    const usage = await options.usageToday?.(event.user).catch((error: unknown) => {
      logger.warn({ err: error }, 'usage for the Home tab not read');
      return undefined;
    });
    try {
      await client.views.publish({
        user_id: event.user,
        view: homeView(threads, options.limits, usage),
      });
    } catch (error) {
      logger.warn({ code: slackErrorCode(error), user: event.user }, 'Home tab not published');
    }
  });
}

/** Asks Slack once per thread for its link (no scope needed); a thread without one is
 *  listed unlinked. */
async function findPermalinks(
  client: webApi.WebClient,
  threads: readonly UserThread[],
  logger: Logger,
): Promise<void> {
  await Promise.all(
    threads
      .filter((t) => t.permalink === undefined)
      .map(async (thread) => {
        try {
          const answer = await client.chat.getPermalink({
            channel: thread.channel,
            message_ts: thread.threadTs,
          });
          if (answer.permalink !== undefined) thread.permalink = answer.permalink;
        } catch (error) {
          logger.debug({ code: slackErrorCode(error) }, 'no permalink for a Home tab thread');
        }
      }),
  );
}
