import type { Channel } from 'discord.js';
import { formatSessionKey } from '../../src/core/session-key.ts';

/**
 * The session a Discord channel belongs to. A thread is its own session under its parent
 * channel (`discord:<guild>:<parent>:<thread>`), so ALLOWED_CHANNELS names the parent; a DM is
 * `discord:dm:<channel>:<channel>`; any other channel is one session for the whole channel
 * (slash commands outside threads, and replies where threads cannot be opened).
 */
export function sessionKeyOf(channel: Channel): string {
  if (channel.isDMBased()) return channelKey('dm', channel.id);
  if (channel.isThread() && channel.parentId !== null) {
    return formatSessionKey({
      platform: 'discord',
      workspace: channel.guildId,
      channel: channel.parentId,
      thread: channel.id,
    });
  }
  return channelKey(channel.guildId, channel.id);
}

/** For an interaction whose channel discord.js could not resolve: the channel as a session. */
export function channelKey(guildId: string | null, channelId: string): string {
  return formatSessionKey({
    platform: 'discord',
    workspace: guildId ?? 'dm',
    channel: channelId,
    thread: channelId,
  });
}
