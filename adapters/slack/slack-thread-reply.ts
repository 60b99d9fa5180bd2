import type { webApi } from '@slack/bolt';
import type { Progress, Reply, ThreadReply } from '../../src/core/reply.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { LiveProgress } from '../../src/render/live-progress.ts';
import { renderReply } from '../../src/render/render-reply.ts';
import { postRendered } from './reply-poster.ts';
import { isNotInChannel, slackErrorCode } from './slack-errors.ts';
import {
  SLACK_RENDER_LIMITS,
  STATUS_INTERVAL_MS,
  STATUS_MAX_CHARS,
  WORKING_REACTION,
} from './slack-limits.ts';
import type { SlackPlace } from './slack-place.ts';
import type { EditBudget } from './edit-budget.ts';
import { StatusMessage } from './status-message.ts';

/** How the bot shows at once that it took a message. */
export type Acknowledgement =
  /** An emoji reaction on the message (channels, DMs). */
  | { readonly kind: 'reaction'; readonly ts: string }
  /** The assistant pane's status line; a reaction on `ts` if Slack refuses it. */
  | {
      readonly kind: 'assistant';
      readonly setStatus: (status: string) => Promise<unknown>;
      readonly ts: string;
    }
  /** Nothing to react to (slash commands): the status message shows at once instead. */
  | { readonly kind: 'none' };

export interface SlackThreadReplyOptions {
  readonly client: webApi.WebClient;
  readonly place: SlackPlace;
  readonly sessionKey: string;
  readonly acknowledgement: Acknowledgement;
  /** See STATUS_DELAY_MS; 0 shows the status message with the first progress. */
  readonly statusDelayMs: number;
  readonly edits: EditBudget;
  readonly logger: Logger;
  /** mrkdwn put before the answer, e.g. who ran a slash command (Slack does not show it). */
  readonly heading?: string;
  /** Called when the answer cannot be posted because the bot is not in the channel. */
  readonly onNotInChannel?: () => Promise<void>;
}

/**
 * One message's way back into Slack: an acknowledgement at once, a live status message with
 * a Stop button while the turn runs, then the answer posted in the thread, after which the
 * status message and the acknowledgement are cleared.
 */
export class SlackThreadReply implements ThreadReply {
  private readonly options: SlackThreadReplyOptions;
  private readonly status: StatusMessage;
  private readonly live: LiveProgress;
  private reacted: Promise<boolean> = Promise.resolve(false);

  constructor(options: SlackThreadReplyOptions) {
    this.options = options;
    this.status = new StatusMessage({
      client: options.client,
      place: options.place,
      sessionKey: options.sessionKey,
      delayMs: options.statusDelayMs,
      edits: options.edits,
      logger: options.logger,
    });
    this.live = new LiveProgress({
      intervalMs: STATUS_INTERVAL_MS,
      maxChars: STATUS_MAX_CHARS,
      show: (text) => this.status.show(text),
      onError: (error) =>
        options.logger.warn({ code: slackErrorCode(error) }, 'status message update failed'),
    });
  }

  /** Shows the message was taken; does not wait for Slack. */
  acknowledge(): void {
    const ack = this.options.acknowledgement;
    if (ack.kind === 'reaction') this.reacted = this.react(ack.ts);
    if (ack.kind === 'assistant') {
      this.reacted = ack.setStatus('is working on it…').then(
        () => false,
        // Not an assistant thread after all (a plain DM thread): a reaction does the job.
        () => this.react(ack.ts),
      );
    }
  }

  progress(update: Progress): void {
    this.live.update(update);
  }

  async reply(reply: Reply): Promise<void> {
    const { client, place, logger } = this.options;
    this.status.cancelPending();
    await this.live.close();
    try {
      const messages = renderReply(reply, SLACK_RENDER_LIMITS);
      await postRendered(client, place, messages, logger, this.options.heading);
    } catch (error) {
      // The core would answer again with an apology that could not be posted either.
      logger.error({ code: slackErrorCode(error), err: error }, 'could not post the answer');
      if (isNotInChannel(error)) await this.options.onNotInChannel?.().catch(() => undefined);
    } finally {
      await this.status.remove();
      await this.unreact();
    }
  }

  private async react(ts: string): Promise<boolean> {
    const { client, place, logger } = this.options;
    try {
      await client.reactions.add({ channel: place.channel, timestamp: ts, name: WORKING_REACTION });
      return true;
    } catch (error) {
      logger.debug({ code: slackErrorCode(error) }, 'could not add the working reaction');
      return false;
    }
  }

  private async unreact(): Promise<void> {
    const ack = this.options.acknowledgement;
    if (ack.kind === 'none' || !(await this.reacted)) return;
    const { client, place } = this.options;
    await client.reactions
      .remove({ channel: place.channel, timestamp: ack.ts, name: WORKING_REACTION })
      .catch(() => undefined);
  }
}
