import type {
  ButtonInteraction,
  ChatInputCommandInteraction,
  MessageContextMenuCommandInteraction,
  ModalSubmitInteraction,
} from 'discord.js';
import type { Progress, Reply, ThreadReply } from '../../src/core/reply.ts';
import type { Logger } from '../../src/logging/logger.ts';
import type { LiveProgress } from '../../src/render/live-progress.ts';
import { renderReply } from '../../src/render/render-reply.ts';
import { withoutTokens } from './discord-errors.ts';
import { renderLimits } from './limits.ts';
import { postRendered, type PostMessage } from './post-rendered.ts';
import { discordLiveProgress } from './progress.ts';
import type { DiscordReplyAddress } from './reply-address.ts';
import { stopButtonRow } from './stop-button.ts';
import { interactionUploadLimitBytes } from './upload-limit.ts';

export type AnsweredInteraction =
  | ChatInputCommandInteraction
  | MessageContextMenuCommandInteraction
  | ModalSubmitInteraction
  | ButtonInteraction;

export interface InteractionReplyOptions {
  /** Already deferred (deferReply) or, for a button, acknowledged (deferUpdate, or update
   *  when the message it sits on has already been rewritten). */
  readonly interaction: AnsweredInteraction;
  /**
   * `deferred-reply`: progress and the first answer message edit the deferred reply, the
   * rest are follow-ups. `follow-up`: everything is a follow-up (a button press must not
   * overwrite the message its button sits on).
   */
  readonly mode: 'deferred-reply' | 'follow-up';
  readonly logger: Logger;
}

/**
 * How a slash command, a submitted /run modal, a Stop press or a confirmed reset is answered: through the
 * interaction's webhook, which needs no channel permissions and keeps working for 15 minutes.
 * Its address names the interaction but not its token (a secret, and dead after 15 minutes):
 * a reply rebuilt elsewhere answers in the channel, editing the progress message if one was
 * shown (the deferred reply, which the bot may edit as its own message).
 */
export class InteractionReply implements ThreadReply {
  readonly address: DiscordReplyAddress;
  private readonly options: InteractionReplyOptions;
  private readonly live: LiveProgress;
  private readonly listeners: ((messageId: string) => void)[] = [];
  private progressShown = false;

  constructor(options: InteractionReplyOptions) {
    this.options = options;
    this.address = addressOf(options.interaction);
    this.live = discordLiveProgress((text) => this.show(text), options.logger);
  }

  onProgressMessage(listener: (messageId: string) => void): void {
    this.listeners.push(listener);
  }

  progress(update: Progress): void {
    if (this.options.mode === 'deferred-reply') this.live.update(update);
  }

  async reply(reply: Reply): Promise<void> {
    await this.live.close();
    const { interaction } = this.options;
    const messages = renderReply(reply, renderLimits(interactionUploadLimitBytes(interaction)));
    try {
      await postRendered(messages, this.poster());
    } catch (error) {
      // The webhook URL in Discord's errors carries the interaction token.
      throw withoutTokens(error);
    }
  }

  private async show(text: string): Promise<void> {
    const message = await this.options.interaction.editReply({
      content: text,
      components: [stopButtonRow()],
    });
    if (this.progressShown) return;
    this.progressShown = true;
    for (const listener of this.listeners) {
      try {
        listener(message.id);
      } catch (error) {
        this.options.logger.warn({ err: error }, 'a progress message listener failed');
      }
    }
  }

  private poster(): PostMessage {
    const { interaction } = this.options;
    let originalDone = this.options.mode === 'follow-up';
    return async (message) => {
      if (originalDone) {
        await interaction.followUp(message);
        return;
      }
      // The answer replaces the deferred "thinking…" and the progress, Stop button included.
      await interaction.editReply({
        content: message.content ?? '',
        files: message.files ?? [],
        components: [],
      });
      originalDone = true;
    };
  }
}

function addressOf(interaction: AnsweredInteraction): DiscordReplyAddress {
  const channelId = interaction.channelId ?? interaction.channel?.id;
  // Discord names the channel of every interaction the adapter answers.
  if (channelId === undefined) throw new Error('an interaction without a channel');
  return {
    surface: 'discord',
    channelId,
    interactionId: interaction.id,
    applicationId: interaction.applicationId,
    maxFileBytes: interactionUploadLimitBytes(interaction),
  };
}
