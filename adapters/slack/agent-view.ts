import type { App } from '@slack/bolt';
import type { Logger } from '../../src/logging/logger.ts';
import { SUGGESTED_PROMPTS } from './assistant-pane.ts';
import { slackErrorCode } from './slack-errors.ts';

/**
 * The agent view's own events. Opening the bot's DM (`app_home_opened` with tab `messages`)
 * sets the suggested prompts with assistant.threads.setSuggestedPrompts for the DM, without a
 * thread_ts: under agent_view Slack silently ignores a call that names a thread (its
 * reference), and every top-level DM message starts its own thread. `app_context_changed`
 * (which channel the person has open beside the bot) is not used: the thread is the session,
 * and a channel's messages reach the model only when the bot is mentioned there.
 */
export function registerAgentView(app: App, logger: Logger): void {
  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'messages') return;
    try {
      await client.assistant.threads.setSuggestedPrompts({
        channel_id: event.channel,
        prompts: SUGGESTED_PROMPTS,
        title: 'Try one of these:',
      });
    } catch (error) {
      // An app on the older assistant_view has no prompts outside its threads.
      logger.debug({ code: slackErrorCode(error) }, 'DM suggested prompts not set');
    }
  });
  app.event('app_context_changed', ({ event }) => {
    logger.debug({ event: event.type }, 'agent view context changed');
    return Promise.resolve();
  });
}
