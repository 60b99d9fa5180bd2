import type { App } from '@slack/bolt';
import type { Logger } from '../../src/logging/logger.ts';

/**
 * The agent view's `app_context_changed`: which channel the person has open beside the bot.
 * sandbot does not use it (the thread is the session, and a channel's messages reach the model
 * only when the bot is mentioned there), so it is only noted; Bolt acknowledges it.
 */
export function registerAgentView(app: App, logger: Logger): void {
  app.event('app_context_changed', ({ event }) => {
    logger.debug({ event: event.type }, 'agent view context changed');
    return Promise.resolve();
  });
}
