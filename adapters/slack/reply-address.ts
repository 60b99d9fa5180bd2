import type { ReplyAddress } from '../../src/core/reply.ts';
import { parseSessionKey } from '../../src/core/session-key.ts';

/** How the bot showed at once that it took the message, as plain data. */
export type AcknowledgementKind =
  /** A 👀 reaction on `ackTs` (channels, DMs). */
  | 'reaction'
  /** The assistant pane's status line of the thread; a reaction on `ackTs` if Slack refused. */
  | 'assistant'
  /** Nothing (slash commands, buttons): the status message shows at once instead. */
  | 'none';

/**
 * Everything another bot process needs to rebuild a message's `SlackThreadReply`
 * (`SlackAdapter.replyFor`): where the answer goes, what to clear once it is in, what to head
 * it with. Plain JSON, stored with the durable turn: no closures, no tokens (the rebuilding
 * process brings its own WebClient), no response_url (a capability to post as the app).
 */
export interface SlackReplyAddress extends ReplyAddress {
  readonly surface: 'slack';
  readonly team: string;
  readonly channel: string;
  /** The thread's root ts; absent: the channel's top level (slash command answers). */
  readonly threadTs?: string;
  /** The session the status message's Stop button stops. */
  readonly sessionKey: string;
  readonly ack: AcknowledgementKind;
  /** The message the acknowledgement is on (absent when `ack` is 'none'). */
  readonly ackTs?: string;
  /** mrkdwn put before the answer (who used a slash command). */
  readonly heading?: string;
  /** True: the status message shows with the first progress, without STATUS_DELAY_MS. */
  readonly statusAtOnce: boolean;
  /** Who asked: a streamed answer's recipient (Slack wants one outside DMs). */
  readonly recipient?: string;
}

const ACK_KINDS: readonly string[] = ['reaction', 'assistant', 'none'];

/** The address when it is a well-formed Slack one (it came back from a store), else undefined. */
export function readSlackAddress(address: ReplyAddress): SlackReplyAddress | undefined {
  const { surface, team, channel, threadTs, sessionKey, ack, ackTs, heading, statusAtOnce } =
    address;
  const { recipient } = address;
  if (surface !== 'slack' || !isText(team) || !isText(channel) || !isText(sessionKey)) {
    return undefined;
  }
  if (typeof ack !== 'string' || !ACK_KINDS.includes(ack)) return undefined;
  if (!optionalText(threadTs) || !optionalText(ackTs) || !optionalText(heading)) return undefined;
  if (!optionalText(recipient)) return undefined;
  if (ack !== 'none' && ackTs === undefined) return undefined;
  if (typeof statusAtOnce !== 'boolean') return undefined;
  // The Stop button must name a session of this very channel (stop-button.ts checks it too).
  if (parseSessionKey(sessionKey)?.channel !== channel) return undefined;
  return {
    surface,
    team,
    channel,
    sessionKey,
    ack: ack as AcknowledgementKind,
    statusAtOnce,
    ...(threadTs === undefined ? {} : { threadTs }),
    ...(ackTs === undefined ? {} : { ackTs }),
    ...(heading === undefined ? {} : { heading }),
    ...(recipient === undefined ? {} : { recipient }),
  };
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function optionalText(value: unknown): value is string | undefined {
  return value === undefined || isText(value);
}
