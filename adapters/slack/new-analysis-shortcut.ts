import type { App, GlobalShortcut, ViewSubmitAction, types } from '@slack/bolt';
import { isFirstDelivery, type DeliveryGuard } from '../../src/core/delivery-guard.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { escapeMrkdwn } from './mrkdwn.ts';
import { slackErrorCode } from './slack-errors.ts';
import { threadSessionKey } from './slack-session.ts';
import type { TurnStarter } from './turn-starter.ts';
import type { UserThreads } from './user-threads.ts';

/** The global shortcut's callback id, as in manifest.yml. */
export const NEW_ANALYSIS_CALLBACK_ID = 'sandbot_new_analysis';
/** The modal it opens. */
export const NEW_ANALYSIS_VIEW_ID = 'sandbot_new_analysis_modal';
export const QUESTION_BLOCK_ID = 'question';
export const QUESTION_ACTION_ID = 'text';

/** How much of the question the thread's first message quotes (the turn gets all of it). */
const QUOTED_MAX_CHARS = 2900;

export interface NewAnalysisOptions {
  readonly turns: TurnStarter;
  readonly threads: UserThreads;
  readonly deliveries: DeliveryGuard;
  readonly logger: Logger;
}

function questionModal(): types.ModalView {
  return {
    type: 'modal',
    callback_id: NEW_ANALYSIS_VIEW_ID,
    title: { type: 'plain_text', text: 'New analysis' },
    submit: { type: 'plain_text', text: 'Start' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: QUESTION_BLOCK_ID,
        label: { type: 'plain_text', text: 'What should I work out?' },
        element: {
          type: 'plain_text_input',
          action_id: QUESTION_ACTION_ID,
          multiline: true,
          max_length: 3000,
          placeholder: {
            type: 'plain_text',
            text: 'e.g. simulate 10,000 dice rolls and plot them',
          },
        },
      },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: 'I answer in a thread in our DM. To give me files, mention me in a channel with them attached, or send them to me in a DM (or use *Analyze with sandbot* on a message that has them).',
          },
        ],
      },
    ],
  };
}

function quoted(question: string): string {
  const shown =
    question.length > QUOTED_MAX_CHARS ? `${question.slice(0, QUOTED_MAX_CHARS)}…` : question;
  return escapeMrkdwn(shown)
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n');
}

/**
 * The "New analysis" global shortcut: a modal asks for the question; on submit the bot opens
 * its DM with the person (conversations.open, im:write), posts the question there, and
 * answers it in that message's thread as a turn like any other, so replies in the thread
 * continue the session. Modals cannot take files, so the modal says where to attach them.
 */
export function registerNewAnalysisShortcut(app: App, options: NewAnalysisOptions): void {
  const { logger } = options;
  app.shortcut<GlobalShortcut>(
    { type: 'shortcut', callback_id: NEW_ANALYSIS_CALLBACK_ID },
    async ({ shortcut, ack, client }) => {
      await ack();
      try {
        await client.views.open({ trigger_id: shortcut.trigger_id, view: questionModal() });
      } catch (error) {
        logger.warn({ code: slackErrorCode(error) }, 'New analysis: the modal did not open');
      }
    },
  );

  app.view<ViewSubmitAction>(
    { type: 'view_submission', callback_id: NEW_ANALYSIS_VIEW_ID },
    async ({ ack, body, view, client, context }) => {
      await ack();
      const question = view.state.values[QUESTION_BLOCK_ID]?.[QUESTION_ACTION_ID]?.value?.trim();
      const team = context.teamId ?? body.team?.id ?? body.user.team_id;
      if (question === undefined || question === '' || team === undefined) return;
      // A redelivered submission must not post the question twice.
      if (!(await isFirstDelivery(options.deliveries, `slack:new-analysis:${view.id}`, logger))) {
        return;
      }
      const user = body.user.id;
      let channel: string | undefined;
      let threadTs: string | undefined;
      try {
        const opened = await client.conversations.open({ users: user });
        channel = opened.channel?.id;
        if (channel === undefined) throw new Error('conversations.open gave no channel');
        const root = await client.chat.postMessage({
          channel,
          text: `*New analysis*\n${quoted(question)}`,
        });
        threadTs = root.ts;
      } catch (error) {
        logger.warn(
          { code: slackErrorCode(error) },
          'New analysis: could not start the thread in the DM (the app needs im:write)',
        );
        return;
      }
      if (threadTs === undefined) return;
      options.threads.add(team, user, { channel, threadTs, title: question });
      await options.turns.direct({
        client,
        team,
        sessionKey: threadSessionKey(team, channel, threadTs),
        deliveryId: body.trigger_id,
        place: { channel, threadTs },
        author: { id: user, name: body.user.name },
        text: question,
        reply: {},
      });
    },
  );
}
