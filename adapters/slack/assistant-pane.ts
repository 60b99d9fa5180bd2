import { Assistant } from '@slack/bolt';
import type { DeliveryGuard } from '../../src/core/delivery-guard.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { botIdentity } from './message-events.ts';
import { routeMessage } from './message-rules.ts';
import { slackErrorCode } from './slack-errors.ts';
import { readSlackMessage } from './slack-message.ts';
import type { TurnStarter } from './turn-starter.ts';

export interface AssistantPaneOptions {
  readonly turns: TurnStarter;
  readonly deliveries: DeliveryGuard;
  readonly allowBotMessages: boolean;
  readonly logger: Logger;
}

export const GREETING =
  'Hi! I run Python for you in a sandbox with no internet. Attach a CSV, a spreadsheet or an image and tell me what you need; plots and files come back here. Say `help` for the commands.';

/** At most four show; each is sent as the user's message when clicked. */
export const SUGGESTED_PROMPTS = [
  { title: 'Plot my data', message: 'Plot the attached CSV and summarise what it shows.' },
  {
    title: 'Clean a spreadsheet',
    message: 'Clean the attached spreadsheet and give it back as an .xlsx file.',
  },
  { title: 'Quick calculation', message: 'What is the 30th Fibonacci number?' },
  { title: 'What can you do?', message: 'help' },
];

/**
 * The Slack assistant pane (Bolt's Assistant): a greeting and suggested prompts when a thread
 * opens, and each message in it answered like a DM, with the pane's status line showing at
 * once that work has started. The thread context (which channel the user was looking at) is
 * not used, so it is not stored.
 */
export function createAssistantPane(options: AssistantPaneOptions): Assistant {
  return new Assistant({
    threadContextStore: { get: () => Promise.resolve({}), save: () => Promise.resolve() },
    threadContextChanged: () => Promise.resolve(),
    threadStarted: async ({ event, client, setSuggestedPrompts }) => {
      const { channel_id: channel, thread_ts: threadTs } = event.assistant_thread;
      const first = await options.deliveries
        .firstDelivery(`slack:assistant-thread:${channel}:${threadTs}`)
        .catch(() => true);
      if (!first) return;
      try {
        await client.chat.postMessage({ channel, thread_ts: threadTs, text: GREETING });
        await setSuggestedPrompts({ prompts: SUGGESTED_PROMPTS, title: 'Try one of these:' });
      } catch (error) {
        options.logger.warn({ code: slackErrorCode(error) }, 'assistant greeting failed');
      }
    },
    userMessage: async ({ message, body, context, client }) => {
      const parsed = readSlackMessage(message);
      if (parsed === undefined) return;
      const bot = botIdentity(context);
      const route = routeMessage(parsed, 'message', bot, options.allowBotMessages);
      if (!route.answer) return;
      await options.turns.fromMessage({
        client,
        team: context.teamId ?? body.team_id,
        message: parsed,
        route,
        bot,
        inAssistantPane: true,
      });
    },
  });
}
