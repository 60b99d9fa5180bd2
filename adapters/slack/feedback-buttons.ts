import type { App, BlockAction, types } from '@slack/bolt';
import type { Logger } from '../../src/logging/logger.ts';

/** Block Kit action id of the 👍/👎 buttons under a streamed answer. */
export const FEEDBACK_ACTION_ID = 'sandbot_feedback';

/** The feedback buttons Slack shows under an answer (a context_actions block). */
export function feedbackBlocks(): types.KnownBlock[] {
  return [
    {
      type: 'context_actions',
      elements: [
        {
          type: 'feedback_buttons',
          action_id: FEEDBACK_ACTION_ID,
          positive_button: {
            text: { type: 'plain_text', text: 'Good answer' },
            accessibility_label: 'Mark this answer as good',
            value: 'good',
          },
          negative_button: {
            text: { type: 'plain_text', text: 'Bad answer' },
            accessibility_label: 'Mark this answer as bad',
            value: 'bad',
          },
        },
      ],
    },
  ];
}

/**
 * Presses of the feedback buttons, counted in /metrics as
 * `sandbot_answer_feedback_total{platform="slack",value="good"|"bad"}` and logged with the
 * thread (never the answer's text).
 */
export function registerFeedbackButtons(
  app: App,
  countFeedback: ((platform: string, value: 'good' | 'bad') => void) | undefined,
  logger: Logger,
): void {
  app.action<BlockAction>(
    { type: 'block_actions', action_id: FEEDBACK_ACTION_ID },
    async ({ ack, action, body }) => {
      await ack();
      const value = 'value' in action && action.value === 'good' ? 'good' : 'bad';
      countFeedback?.('slack', value);
      logger.info({ value, channel: body.channel?.id, user: body.user.id }, 'answer feedback');
    },
  );
}
