import { formatSessionKey } from '../../src/core/session-key.ts';

/**
 * Session keys of Slack conversations: `slack:<team>:<channel>:<thread>`. A thread is named by
 * its root message's ts (digits and a dot, which session keys allow).
 */
export function threadSessionKey(team: string, channel: string, threadTs: string): string {
  return formatSessionKey({ platform: 'slack', workspace: team, channel, thread: threadTs });
}

/**
 * Slash commands have no thread (Slack does not say where in a channel one was typed), so
 * `/sandbot` in a channel works in one session per channel: `/sandbot run x = 1`, then
 * `/sandbot run x + 1`, then `/sandbot export` share their state like a notebook. "channel"
 * can never collide with a thread, whose name is a ts.
 */
export function channelSessionKey(team: string, channel: string): string {
  return formatSessionKey({ platform: 'slack', workspace: team, channel, thread: 'channel' });
}
