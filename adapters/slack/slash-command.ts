import type { App } from '@slack/bolt';
import type { Logger } from '../../src/logging/logger.ts';
import { plainTextFromSlack } from './inbound-text.ts';
import { escapeMrkdwn } from './mrkdwn.ts';
import { channelSessionKey } from './slack-session.ts';
import type { TurnStarter } from './turn-starter.ts';

const NOT_IN_CHANNEL =
  'I am not a member of this conversation, so I cannot post the answer here. Invite me (`/invite @sandbot`) or use me in a channel I am in.';

/**
 * `/sandbot <command> [args]`: acknowledged at once (Slack wants that within 3 s), then the
 * text goes to the core like a message: `run`, `reset`, `forget`, `files`, `stop`, `export`, `status`,
 * `install`, `packages`, `help` (an empty command is `help`). Answers are posted in the channel, under a line saying
 * who asked, in the channel's slash-command session (slack-session.ts).
 */
export function registerSlashCommand(app: App, turns: TurnStarter, logger: Logger): void {
  // Any command name: a workspace may rename /sandbot in the manifest (e.g. /sandbot-dev).
  app.command(/.*/, async ({ command, ack, client, respond, context }) => {
    const text = plainTextFromSlack(command.text, context.botUserId) || 'help';
    // Slack shows nothing for a command until its answer; this line (seen only by the
    // person who asked) is the visible progress within a second.
    await ack({ response_type: 'ephemeral', text: `⏳ Working on \`${command.command}\`…` });
    const team = context.teamId ?? command.team_id;
    // One line of what was asked: Slack shows nobody the command itself.
    const firstLine = text.split('\n')[0] ?? '';
    const shown =
      firstLine.length > 80 || text.includes('\n') ? `${firstLine.slice(0, 80)} …` : text;
    const asked = `${command.command} ${shown}`.replace(/`/g, "'");
    logger.debug({ command: command.command, channel: command.channel_id }, 'slash command');
    await turns.direct({
      client,
      team,
      sessionKey: channelSessionKey(team, command.channel_id),
      deliveryId: command.trigger_id,
      place: { channel: command.channel_id, threadTs: undefined },
      author: { id: command.user_id, name: command.user_name },
      text,
      reply: {
        heading: `<@${command.user_id}> used \`${escapeMrkdwn(asked)}\``,
        onNotInChannel: async () => {
          await respond({ response_type: 'ephemeral', text: NOT_IN_CHANNEL });
        },
      },
    });
  });
}
