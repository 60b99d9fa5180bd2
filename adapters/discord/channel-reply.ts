import type { SendableChannels } from 'discord.js';
import type { AnswerKey, Progress, Reply, ThreadReply } from '../../src/core/reply.ts';
import type { Logger } from '../../src/logging/logger.ts';
import type { LiveProgress } from '../../src/render/live-progress.ts';
import { renderReply } from '../../src/render/render-reply.ts';
import { errorFields } from './discord-errors.ts';
import { MAX_MESSAGE_CHARS, renderLimits } from './limits.ts';
import { postRendered } from './post-rendered.ts';
import { discordLiveProgress, finishedStatus } from './progress.ts';
import type { DiscordReplyAddress } from './reply-address.ts';
import { stopButtonRow } from './stop-button.ts';

export interface ChannelReplyOptions {
  /** Where the turn is answered: the bot's thread, a DM, or a channel; or how to fetch it,
   *  for a reply rebuilt in another process from its address (fetched once, when first used). */
  readonly channel: SendableChannels | (() => Promise<SendableChannels>);
  /** The largest attachment this channel takes (the server's upload limit). */
  readonly maxFileBytes: number;
  readonly logger: Logger;
  /** What another process needs to rebuild this reply. */
  readonly address: DiscordReplyAddress;
  /** The progress message an earlier runner of this turn posted: taken over, never left. */
  readonly resumedProgressId?: string;
}

/** The heading of a taken-over progress message until the resumed turn shows its own. */
const RESUMED_TEXT = '⏳ Resumed after a restart: working on it again…';
/** The last line of a taken-over progress message, kept when it closes. */
const RESUMED_NOTE = '-# ↻ This turn was resumed after a restart.';

/**
 * How a message turn looks in a channel: typing at once, one progress message with a Stop
 * button edited as the turn goes, then the answer as new messages (so people are notified),
 * and the progress message closed without its button. A resumed turn edits the progress
 * message its first runner posted instead of posting another, and says it was resumed.
 */
export class ChannelReply implements ThreadReply {
  readonly address: DiscordReplyAddress;
  private readonly options: ChannelReplyOptions;
  private readonly live: LiveProgress;
  private readonly listeners: ((messageId: string) => void)[] = [];
  private channelPromise: Promise<SendableChannels> | undefined;
  private statusId: string | undefined;
  /** The status text last shown, without the resumed note nor a streamed answer's preview. */
  private shown = '';
  /** The edit taking over a resumed turn's progress message; later writes wait for it. */
  private readonly takingOver: Promise<void>;

  constructor(options: ChannelReplyOptions) {
    this.options = options;
    this.address = options.address;
    const resumed = options.resumedProgressId !== undefined;
    this.live = discordLiveProgress(
      async (text, answerPreview) => {
        await this.takingOver;
        await this.write(text, answerPreview);
      },
      options.logger,
      // Room for the resumed note under the status.
      resumed ? MAX_MESSAGE_CHARS - RESUMED_NOTE.length - 1 : MAX_MESSAGE_CHARS,
    );
    this.takingOver =
      options.resumedProgressId === undefined
        ? Promise.resolve()
        : this.takeOver(options.resumedProgressId);
  }

  onProgressMessage(listener: (messageId: string) => void): void {
    this.listeners.push(listener);
  }

  /** The typing indicator: visible at once, until the first message lands (or 10 s). */
  startTyping(): void {
    this.channel()
      .then((channel) => channel.sendTyping())
      .catch((error: unknown) => {
        this.options.logger.warn(errorFields(error), 'typing indicator failed');
      });
  }

  progress(update: Progress): void {
    this.live.update(update);
  }

  reply(reply: Reply): Promise<void> {
    return this.post(reply, undefined);
  }

  /**
   * The answer with the k-th message's nonce `<key>.<k>`, enforced: Discord then returns the
   * message an earlier runner posted with it instead of posting it again ("checked for
   * uniqueness in the past few minutes", which a resumed turn is well within).
   */
  replyOnce(reply: Reply, key: AnswerKey): Promise<void> {
    return this.post(reply, key);
  }

  private async post(reply: Reply, key: AnswerKey | undefined): Promise<void> {
    await this.live.close();
    await this.takingOver;
    const { maxFileBytes } = this.options;
    let part = 0;
    try {
      const channel = await this.channel();
      await postRendered(renderReply(reply, renderLimits(maxFileBytes)), (message) =>
        channel.send(
          key === undefined
            ? message
            : { ...message, nonce: `${key.id}.${part++}`, enforceNonce: true },
        ),
      );
    } finally {
      // Even when posting failed, the Stop button of a finished turn must go.
      await this.closeStatus();
    }
  }

  private channel(): Promise<SendableChannels> {
    const { channel } = this.options;
    if (typeof channel !== 'function') return Promise.resolve(channel);
    this.channelPromise ??= channel().catch((error: unknown) => {
      // A failed fetch is tried again by the next write, not remembered.
      this.channelPromise = undefined;
      throw error;
    });
    return this.channelPromise;
  }

  /**
   * Posts the status message the first time (telling listeners its id), edits it after. An
   * answer preview is not kept as `shown`: the closed status keeps the code and output it
   * showed before, and the answer is in its own message.
   */
  private async write(text: string, answerPreview = false): Promise<void> {
    const message = { content: this.withNote(text), components: [stopButtonRow()] };
    const channel = await this.channel();
    if (this.statusId === undefined) {
      const posted = await channel.send(message);
      this.statusId = posted.id;
      this.announce(posted.id);
    } else {
      await channel.messages.edit(this.statusId, message);
    }
    if (!answerPreview) this.shown = text;
  }

  private async takeOver(messageId: string): Promise<void> {
    this.statusId = messageId;
    try {
      await this.write(RESUMED_TEXT);
    } catch (error) {
      // Deleted, or not the bot's to edit: the resumed turn's progress starts a new message.
      this.options.logger.warn(errorFields(error), 'could not take over the progress message');
      this.statusId = undefined;
    }
  }

  private announce(messageId: string): void {
    for (const listener of this.listeners) {
      try {
        listener(messageId);
      } catch (error) {
        this.options.logger.warn({ err: error }, 'a progress message listener failed');
      }
    }
  }

  private withNote(text: string): string {
    return this.options.resumedProgressId === undefined ? text : `${text}\n${RESUMED_NOTE}`;
  }

  private async closeStatus(): Promise<void> {
    if (this.statusId === undefined) return;
    const maxChars =
      this.options.resumedProgressId === undefined
        ? MAX_MESSAGE_CHARS
        : MAX_MESSAGE_CHARS - RESUMED_NOTE.length - 1;
    try {
      const channel = await this.channel();
      await channel.messages.edit(this.statusId, {
        content: this.withNote(finishedStatus(this.shown, maxChars)),
        components: [],
      });
    } catch (error) {
      this.options.logger.warn(errorFields(error), 'closing the progress message failed');
    }
  }
}
