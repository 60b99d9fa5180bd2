import type { Message, SendableChannels } from 'discord.js';
import type { Progress, Reply, ThreadReply } from '../../src/core/reply.ts';
import type { Logger } from '../../src/logging/logger.ts';
import type { LiveProgress } from '../../src/render/live-progress.ts';
import { renderReply } from '../../src/render/render-reply.ts';
import { errorFields } from './discord-errors.ts';
import { renderLimits } from './limits.ts';
import { postRendered } from './post-rendered.ts';
import { discordLiveProgress, finishedStatus } from './progress.ts';
import { stopButtonRow } from './stop-button.ts';

export interface ChannelReplyOptions {
  /** Where the turn is answered: the bot's thread, a DM, or a channel. */
  readonly channel: SendableChannels;
  /** The largest attachment this channel takes (the server's upload limit). */
  readonly maxFileBytes: number;
  readonly logger: Logger;
}

/**
 * How a message turn looks in a channel: typing at once, one progress message with a Stop
 * button edited as the turn goes, then the answer as new messages (so people are notified),
 * and the progress message closed without its button.
 */
export class ChannelReply implements ThreadReply {
  private readonly options: ChannelReplyOptions;
  private readonly live: LiveProgress;
  private status: Message | undefined;
  private shown = '';

  constructor(options: ChannelReplyOptions) {
    this.options = options;
    this.live = discordLiveProgress((text) => this.show(text), options.logger);
  }

  /** The typing indicator: visible at once, until the first message lands (or 10 s). */
  startTyping(): void {
    this.options.channel.sendTyping().catch((error: unknown) => {
      this.options.logger.warn(errorFields(error), 'typing indicator failed');
    });
  }

  progress(update: Progress): void {
    this.live.update(update);
  }

  async reply(reply: Reply): Promise<void> {
    await this.live.close();
    const { channel, maxFileBytes } = this.options;
    try {
      await postRendered(renderReply(reply, renderLimits(maxFileBytes)), (message) =>
        channel.send(message),
      );
    } finally {
      // Even when posting failed, the Stop button of a finished turn must go.
      await this.closeStatus();
    }
  }

  private async show(text: string): Promise<void> {
    const message = { content: text, components: [stopButtonRow()] };
    if (this.status === undefined) this.status = await this.options.channel.send(message);
    else await this.status.edit(message);
    this.shown = text;
  }

  private async closeStatus(): Promise<void> {
    if (this.status === undefined) return;
    try {
      await this.status.edit({ content: finishedStatus(this.shown), components: [] });
    } catch (error) {
      this.options.logger.warn(errorFields(error), 'closing the progress message failed');
    }
  }
}
