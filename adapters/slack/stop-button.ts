import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { Logger } from '../../src/logging/logger.ts';
import { parseSessionKey } from '../../src/core/session-key.ts';
import { STOP_ACTION_ID } from './slack-limits.ts';
import type { TurnStarter } from './turn-starter.ts';

/**
 * The Stop button on a status message: the same as typing `stop` in that thread, so the core
 * interrupts the running cell and ends the turn. The button's value names the session; it
 * is honoured only for the channel the button was pressed in.
 */
export function registerStopButton(app: App, turns: TurnStarter, logger: Logger): void {
  app.action<BlockAction<ButtonAction>>(
    { type: 'block_actions', action_id: STOP_ACTION_ID },
    async ({ ack, body, action, client, context }) => {
      await ack();
      const container: Readonly<Record<string, unknown>> = body.container;
      const channel = body.channel?.id ?? container.channel_id;
      const key = parseSessionKey(action.value ?? '');
      if (key === undefined || typeof channel !== 'string' || key.channel !== channel) {
        logger.warn({ channel }, 'Stop pressed with a session of another channel; ignored');
        return;
      }
      const threadTs: unknown = body.message?.thread_ts ?? container.thread_ts;
      await turns.direct({
        client,
        team: context.teamId ?? key.workspace,
        sessionKey: action.value ?? '',
        deliveryId: body.trigger_id,
        place: { channel, threadTs: typeof threadTs === 'string' ? threadTs : undefined },
        author: { id: body.user.id, name: body.user.name ?? body.user.username },
        text: 'stop',
        reply: {},
      });
    },
  );
}
