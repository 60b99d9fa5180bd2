import type { App, BlockAction, ButtonAction, types, webApi } from '@slack/bolt';
import type { ConversationPort } from '../../src/core/chat-adapter.ts';
import type { ApprovalPrompts } from '../../src/core/package-approval.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { readSlackAddress } from './reply-address.ts';
import { slackErrorCode } from './slack-errors.ts';
import { SlackUserGroups } from './user-groups.ts';

/** Block Kit action ids of a package question's buttons; their value is the approval's id. */
export const APPROVE_PACKAGES_ACTION_ID = 'sandbot_packages_approve';
export const DENY_PACKAGES_ACTION_ID = 'sandbot_packages_deny';

function section(text: string): types.KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

/** The question with its two buttons. */
export function approvalBlocks(approvalId: string, text: string): types.KnownBlock[] {
  return [
    section(text),
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: APPROVE_PACKAGES_ACTION_ID,
          text: { type: 'plain_text', text: 'Approve' },
          style: 'primary',
          value: approvalId,
        },
        {
          type: 'button',
          action_id: DENY_PACKAGES_ACTION_ID,
          text: { type: 'plain_text', text: 'Deny' },
          style: 'danger',
          value: approvalId,
        },
      ],
    },
  ];
}

/**
 * Package questions in a Slack thread, posted and settled with the bot token from any bot
 * process (the address is the turn's own). Settling keeps the question and puts the outcome
 * where the buttons were.
 */
export function slackApprovalPrompts(client: webApi.WebClient): ApprovalPrompts {
  return {
    async ask(address, question) {
      const slack = readSlackAddress(address);
      if (slack === undefined) throw new Error('not a Slack reply address');
      const posted = await client.chat.postMessage({
        channel: slack.channel,
        ...(slack.threadTs === undefined ? {} : { thread_ts: slack.threadTs }),
        text: question.text,
        blocks: approvalBlocks(question.id, question.text),
      });
      if (posted.ts === undefined) throw new Error('Slack returned no ts for the question');
      return posted.ts;
    },
    async settle(address, messageId, text) {
      const slack = readSlackAddress(address);
      if (slack === undefined) return;
      await client.chat.update({
        channel: slack.channel,
        ts: messageId,
        text: `${text.question}\n${text.outcome}`,
        blocks: [section(text.question), section(text.outcome)],
      });
    },
  };
}

/**
 * Presses of Approve and Deny: acknowledged at once, decided by the core (PACKAGE_APPROVERS,
 * with the presser's Slack user groups looked up as ALLOWED_USERS' are); someone who may not
 * decide, or who comes too late, is told so privately.
 */
export function registerPackageApprovalButtons(
  app: App,
  options: {
    readonly conversation: ConversationPort;
    readonly approvers: readonly string[] | undefined;
    readonly logger: Logger;
  },
): void {
  const groups = SlackUserGroups.fromAllowedUsers(options.approvers, options.logger);
  const actionIds = new RegExp(`^(?:${APPROVE_PACKAGES_ACTION_ID}|${DENY_PACKAGES_ACTION_ID})$`);
  app.action<BlockAction<ButtonAction>>(
    { type: 'block_actions', action_id: actionIds },
    async ({ ack, body, action, client }) => {
      await ack();
      const { conversation } = options;
      if (conversation.pressApproval === undefined) return;
      const user = body.user.id;
      const answer = await conversation.pressApproval({
        approvalId: action.value ?? '',
        approve: action.action_id === APPROVE_PACKAGES_ACTION_ID,
        platform: 'slack',
        user: {
          id: user,
          name: body.user.name ?? body.user.username,
          groups: groups === undefined ? [] : await groups.of(client, user),
        },
      });
      const channel = body.channel?.id;
      if (answer.reply === undefined || channel === undefined) return;
      const threadTs: unknown = body.message?.thread_ts;
      await client.chat
        .postEphemeral({
          channel,
          user,
          text: answer.reply,
          ...(typeof threadTs === 'string' ? { thread_ts: threadTs } : {}),
        })
        .catch((error: unknown) =>
          options.logger.warn({ code: slackErrorCode(error) }, 'could not answer a press'),
        );
    },
  );
}
