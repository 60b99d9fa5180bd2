import type { App, MessageShortcut } from '@slack/bolt';
import type { Logger } from '../../src/logging/logger.ts';
import { plainTextFromSlack } from './inbound-text.ts';
import { readSlackMessage } from './slack-message.ts';
import { threadSessionKey } from './slack-session.ts';
import type { TurnStarter } from './turn-starter.ts';
import type { UserThreads } from './user-threads.ts';

/** The message shortcut's callback id, as in manifest.yml. */
export const ANALYZE_MESSAGE_CALLBACK_ID = 'sandbot_analyze_message';

const NOT_IN_CHANNEL =
  'I am not a member of this conversation, so I cannot answer in its thread. Invite me (`/invite @sandbot`) and try again.';

export interface AnalyzeMessageOptions {
  readonly turns: TurnStarter;
  readonly threads: UserThreads;
  readonly logger: Logger;
}

/** What the model is asked: the message's own words, framed as a request to analyze it. */
function requestText(said: string, fileCount: number): string {
  const what = fileCount > 0 ? 'this message and its files' : 'this message';
  return said === '' ? `Analyze ${what}.` : `Analyze ${what}:\n\n${said}`;
}

/**
 * "Analyze with sandbot" on any message: a turn in that message's thread (its own thread
 * when top level) with the message's text and its files attached, as if the person who used
 * the shortcut had asked with them; the files land in /mnt/data for the first turn. The
 * answer says who asked (people see no trace of a shortcut otherwise).
 */
export function registerAnalyzeMessageShortcut(app: App, options: AnalyzeMessageOptions): void {
  app.shortcut<MessageShortcut>(
    { type: 'message_action', callback_id: ANALYZE_MESSAGE_CALLBACK_ID },
    async ({ shortcut, ack, client, context, respond }) => {
      await ack();
      const channel = shortcut.channel.id;
      const message = readSlackMessage({ ...shortcut.message, channel });
      const team = context.teamId ?? shortcut.team?.id ?? shortcut.user.team_id;
      if (message === undefined || team === undefined) {
        options.logger.warn('Analyze with sandbot: a shortcut without a readable message');
        return;
      }
      const threadTs = message.threadTs ?? message.ts;
      const said = plainTextFromSlack(message.text, context.botUserId);
      const user = shortcut.user.id;
      options.threads.add(team, user, {
        channel,
        threadTs,
        title: said === '' ? message.files.map((f) => f.name).join(', ') : said,
      });
      await options.turns.direct({
        client,
        team,
        sessionKey: threadSessionKey(team, channel, threadTs),
        deliveryId: shortcut.trigger_id,
        place: { channel, threadTs },
        author: { id: user, name: shortcut.user.name },
        text: requestText(said, message.files.length),
        files: message.files,
        reply: {
          heading: `<@${user}> used *Analyze with sandbot* on a message`,
          onNotInChannel: async () => {
            await respond({ response_type: 'ephemeral', text: NOT_IN_CHANNEL });
          },
        },
      });
    },
  );
}
