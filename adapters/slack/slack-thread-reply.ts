import type { webApi } from '@slack/bolt';
import { setImmediate as afterPendingWork } from 'node:timers/promises';
import type { AnswerKey, Progress, Reply, ReplyResume, ThreadReply } from '../../src/core/reply.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { LiveProgress } from '../../src/render/live-progress.ts';
import { renderReply } from '../../src/render/render-reply.ts';
import { findPostedParts } from './answer-parts.ts';
import type { AcknowledgementKind, SlackReplyAddress } from './reply-address.ts';
import { postRendered } from './reply-poster.ts';
import { isNotInChannel, slackErrorCode } from './slack-errors.ts';
import {
  SLACK_RENDER_LIMITS,
  STATUS_INTERVAL_MS,
  STATUS_MAX_CHARS,
  STREAM_INTERVAL_MS,
  WORKING_REACTION,
} from './slack-limits.ts';
import type { SlackPlace } from './slack-place.ts';
import type { EditBudget } from './edit-budget.ts';
import { StatusMessage } from './status-message.ts';
import { SLACK_TABLE_LIMITS } from './table-blocks.ts';
import { SlackAnswerStream } from './answer-stream.ts';
import { ThreadStatus } from './thread-status.ts';
import { feedbackBlocks } from './feedback-buttons.ts';
import type { StreamSupport } from './stream-support.ts';

/** How the bot shows at once that it took a message (see AcknowledgementKind). */
export type Acknowledgement =
  | { readonly kind: Exclude<AcknowledgementKind, 'none'>; readonly ts: string }
  | { readonly kind: 'none' };

/** Heads the status message of a turn another runner began (its process died). */
export const RESUMED_NOTE = '🔁 _Resumed after an interruption._';

export interface SlackThreadReplyOptions {
  readonly client: webApi.WebClient;
  readonly team: string;
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
  /**
   * Set when this reply is rebuilt from its address for a turn acknowledged elsewhere: the
   * acknowledgement is cleared without knowing whether it was made, and the status message
   * the first runner posted, if any, is taken over.
   */
  readonly rebuilt?: ReplyResume;
  /**
   * The answer streams with Slack's streaming message API where `support` says the workspace
   * offers it (threads only); `recipientUserId` is who asked (Slack wants it outside DMs).
   */
  readonly streaming?: {
    readonly support: StreamSupport;
    readonly recipientUserId: string | undefined;
  };
}

/**
 * One message's way back into Slack: an acknowledgement at once, a live status message with
 * a Stop button while the turn runs, then the answer posted in the thread, after which the
 * status message and the acknowledgement are cleared. Its `address` rebuilds an equivalent
 * reply in another process (`SlackAdapter.replyFor`).
 */
export class SlackThreadReply implements ThreadReply {
  readonly address: SlackReplyAddress;
  private readonly options: SlackThreadReplyOptions;
  private readonly status: StatusMessage;
  private readonly live: LiveProgress;
  private readonly progressListeners: ((messageId: string) => void)[] = [];
  /** Whether there is a reaction to remove; a rebuilt reply cannot know, so it tries. */
  private reacted: Promise<boolean>;
  /** The answer as a streaming message, while the workspace takes it. */
  private readonly stream: SlackAnswerStream | undefined;
  /** Slack's status line under the thread (threads only). */
  private readonly threadStatus: ThreadStatus | undefined;

  constructor(options: SlackThreadReplyOptions) {
    this.options = options;
    this.address = addressOf(options);
    const { rebuilt } = options;
    this.reacted = Promise.resolve(rebuilt !== undefined);
    this.status = new StatusMessage({
      client: options.client,
      place: options.place,
      sessionKey: options.sessionKey,
      delayMs: options.statusDelayMs,
      edits: options.edits,
      logger: options.logger,
      ...(rebuilt?.progressMessageId === undefined
        ? {}
        : { takeOverTs: rebuilt.progressMessageId }),
      onPosted: (ts) => this.progressPosted(ts),
    });
    // Only a taken-over message is a resumed turn's; a reply rebuilt with nothing to take
    // over may just be run by another replica than the one that took the message.
    const note = rebuilt?.progressMessageId === undefined ? undefined : RESUMED_NOTE;
    this.live = new LiveProgress({
      intervalMs: STATUS_INTERVAL_MS,
      maxChars: STATUS_MAX_CHARS - (note === undefined ? 0 : note.length + 1),
      show: (text) => this.status.show(note === undefined ? text : `${note}\n${text}`),
      onError: (error) =>
        options.logger.warn({ code: slackErrorCode(error) }, 'status message update failed'),
    });
    // The taken-over message still says what the dead runner was doing: say it resumed.
    if (note !== undefined) this.live.update({ type: 'thinking' });
    this.stream = answerStream(options, (text) => this.live.update({ type: 'answering', text }));
    const threadTs = options.place.threadTs;
    this.threadStatus =
      threadTs === undefined
        ? undefined
        : new ThreadStatus(
            options.client,
            { channel: options.place.channel, threadTs },
            options.logger,
          );
  }

  onProgressMessage(listener: (messageId: string) => void): void {
    this.progressListeners.push(listener);
  }

  /**
   * Shows the message was taken; does not wait for Slack. The call is made once the work
   * under way has gone out (setImmediate): the turn's hand-off and its first model request
   * go first, the reaction a fraction of a millisecond later.
   */
  acknowledge(): void {
    const ack = this.options.acknowledgement;
    if (ack.kind === 'reaction') this.reacted = afterPendingWork().then(() => this.react(ack.ts));
    if (ack.kind === 'assistant') {
      this.reacted = afterPendingWork()
        .then(() => this.setAssistantStatus('is working on it…'))
        .then(
          () => false,
          // Not an assistant thread after all (a plain DM thread): a reaction does the job.
          () => this.react(ack.ts),
        );
    }
  }

  progress(update: Progress): void {
    this.threadStatus?.show(update);
    if (this.stream?.live === true) {
      if (update.type === 'running') this.stream.cellStarted(update.code);
      if (update.type === 'answering') {
        // The text streams in its own message; the status only says it is being written.
        this.stream.append(update.text);
        this.live.update({ type: 'answering', text: '' });
        return;
      }
    }
    this.live.update(update);
  }

  reply(reply: Reply): Promise<void> {
    return this.post(reply, undefined);
  }

  /**
   * The answer with each text message's part in message metadata; after an earlier runner
   * began posting it, only the parts Slack does not show yet (see answer-parts.ts).
   */
  replyOnce(reply: Reply, key: AnswerKey): Promise<void> {
    return this.post(reply, key);
  }

  private async post(reply: Reply, key: AnswerKey | undefined): Promise<void> {
    const { client, place, logger } = this.options;
    this.status.cancelPending();
    this.threadStatus?.close();
    // A streamed answer's text is already in the thread: the rest (code, tables, files,
    // notices) follows it; when the stream could not carry it, the answer is posted whole.
    const streamed = (await this.stream?.stop(reply.text, feedbackBlocks())) === true;
    await this.live.close();
    try {
      const rest = streamed ? { ...reply, text: '' } : reply;
      const messages = nothingBut(rest)
        ? []
        : renderReply(rest, SLACK_RENDER_LIMITS, { nativeTables: SLACK_TABLE_LIMITS });
      const once =
        key === undefined
          ? undefined
          : { key, posted: await findPostedParts(client, place, key, messages) };
      if (once !== undefined && once.posted.size > 0) {
        logger.info({ parts: [...once.posted] }, 'an earlier runner posted part of this answer');
      }
      await postRendered(client, place, messages, logger, this.options.heading, once);
    } catch (error) {
      // The core would answer again with an apology that could not be posted either.
      logger.error({ code: slackErrorCode(error), err: error }, 'could not post the answer');
      if (isNotInChannel(error)) await this.options.onNotInChannel?.().catch(() => undefined);
    } finally {
      await this.status.remove();
      await this.unreact();
    }
  }

  private progressPosted(ts: string): void {
    for (const listener of this.progressListeners) {
      try {
        listener(ts);
      } catch (error) {
        this.options.logger.warn({ err: error }, 'progress message listener failed');
      }
    }
  }

  /** Bolt's Assistant `setStatus`, made from data so a rebuilt reply can call it too. */
  private async setAssistantStatus(status: string): Promise<void> {
    const { client, place } = this.options;
    if (place.threadTs === undefined) throw new Error('an assistant status needs a thread');
    await client.assistant.threads.setStatus({
      channel_id: place.channel,
      thread_ts: place.threadTs,
      status,
    });
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
    // A rebuilt reply tries even where there was none (Slack answers no_reaction).
    await client.reactions
      .remove({ channel: place.channel, timestamp: ack.ts, name: WORKING_REACTION })
      .catch(() => undefined);
  }
}

/** The answer's stream, when this reply may stream (a thread, a workspace that offers it). */
function answerStream(
  options: SlackThreadReplyOptions,
  showInStatus: (text: string) => void,
): SlackAnswerStream | undefined {
  const { streaming, place, team, client, logger } = options;
  const threadTs = place.threadTs;
  if (streaming === undefined || threadTs === undefined || !streaming.support.offered(team)) {
    return undefined;
  }
  const { recipientUserId } = streaming;
  const stream: SlackAnswerStream = new SlackAnswerStream({
    client,
    place: { channel: place.channel, threadTs },
    recipient:
      recipientUserId === undefined ? undefined : { userId: recipientUserId, teamId: team },
    intervalMs: STREAM_INTERVAL_MS,
    logger,
    onFailed: (code) => {
      streaming.support.failed(team, code);
      // The status message takes over, from what was written so far.
      showInStatus(stream.answerText);
    },
  });
  return stream;
}

/** A reply with nothing left to post once its text has streamed. */
function nothingBut(reply: Reply): boolean {
  return (
    reply.text.trim() === '' &&
    reply.code.length === 0 &&
    reply.images.length === 0 &&
    reply.files.length === 0 &&
    reply.notices.length === 0 &&
    (reply.displays ?? []).length === 0
  );
}

function addressOf(options: SlackThreadReplyOptions): SlackReplyAddress {
  const { team, place, sessionKey, acknowledgement: ack, heading } = options;
  return {
    surface: 'slack',
    team,
    channel: place.channel,
    ...(place.threadTs === undefined ? {} : { threadTs: place.threadTs }),
    sessionKey,
    ack: ack.kind,
    ...(ack.kind === 'none' ? {} : { ackTs: ack.ts }),
    ...(heading === undefined ? {} : { heading }),
    statusAtOnce: options.statusDelayMs === 0,
    ...(options.streaming?.recipientUserId === undefined
      ? {}
      : { recipient: options.streaming.recipientUserId }),
  };
}

/** The reply `address` names, rebuilt with this process's client and edit budget. */
export function replyFromAddress(
  address: SlackReplyAddress,
  resume: ReplyResume,
  local: Pick<SlackThreadReplyOptions, 'client' | 'edits' | 'logger'> & {
    readonly statusDelayMs: number;
    readonly streams?: StreamSupport;
  },
): SlackThreadReply {
  return new SlackThreadReply({
    ...local,
    team: address.team,
    place: { channel: address.channel, threadTs: address.threadTs },
    sessionKey: address.sessionKey,
    acknowledgement:
      address.ack === 'none' || address.ackTs === undefined
        ? { kind: 'none' }
        : { kind: address.ack, ts: address.ackTs },
    statusDelayMs: address.statusAtOnce ? 0 : local.statusDelayMs,
    ...(address.heading === undefined ? {} : { heading: address.heading }),
    ...(local.streams === undefined || address.ack === 'none'
      ? {}
      : { streaming: { support: local.streams, recipientUserId: address.recipient } }),
    rebuilt: resume,
  });
}
