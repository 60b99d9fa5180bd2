import type { Client, SendableChannels } from 'discord.js';
import type { ReplyAddress, ReplyResume } from '../../src/core/reply.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { downloadAttachment, isAttachmentUrl } from './attachment-download.ts';
import { ChannelReply } from './channel-reply.ts';
import { isSnowflake, parseDiscordAddress } from './reply-address.ts';

/**
 * A turn's reply rebuilt from its address, in any bot process: answers go to the address's
 * channel through the REST API (so a process without the gateway can post them). With a
 * recorded progress message, the reply takes it over: edits it to say the turn resumed, and
 * closes it (Stop button gone) when the answer is posted, as the first runner would have.
 * An interaction's reply is rebuilt as a channel reply: its token is not in the address.
 */
export function rebuildReply(
  client: Client,
  address: ReplyAddress,
  resume: ReplyResume,
  logger: Logger,
): ChannelReply | undefined {
  const parsed = parseDiscordAddress(address);
  if (parsed === undefined) return undefined;
  const progressId = resume.progressMessageId;
  const child = logger.child({ channel: parsed.channelId, resumedProgress: progressId });
  if (progressId !== undefined && !isSnowflake(progressId)) {
    child.warn('ignoring a recorded progress message id that is not a Discord id');
  }
  return new ChannelReply({
    channel: () => sendableChannel(client, parsed.channelId),
    maxFileBytes: parsed.maxFileBytes,
    logger: child,
    address: parsed,
    ...(progressId !== undefined && isSnowflake(progressId)
      ? { resumedProgressId: progressId }
      : {}),
  });
}

async function sendableChannel(client: Client, channelId: string): Promise<SendableChannels> {
  // A process without the gateway has no guild cached; discord.js builds the channel anyway.
  const channel = await client.channels.fetch(channelId, { allowUnknownGuild: true });
  if (channel === null || !channel.isSendable()) {
    throw new Error(`Discord channel ${channelId} does not take messages`);
  }
  return channel;
}

/**
 * An attachment again by its ref (its CDN URL), within the size limit of uploads. Only
 * Discord's CDN (or the REST base's origin) is fetched, whatever the ref says.
 */
export async function fetchAttachmentByRef(
  ref: string,
  apiUrl: string | undefined,
  maxBytes: number,
): Promise<Buffer> {
  if (!isAttachmentUrl(ref, apiUrl)) throw new Error('not a Discord attachment URL');
  return downloadAttachment(ref, maxBytes);
}
