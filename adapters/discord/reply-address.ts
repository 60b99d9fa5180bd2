import type { ReplyAddress } from '../../src/core/reply.ts';

/**
 * Where a Discord turn is answered, as plain data another bot process can rebuild a reply
 * from (`DiscordAdapter.replyFor`). Never an interaction token: it is a secret while it lives
 * and dead after 15 minutes, so a rebuilt interaction reply posts in the channel instead.
 */
export interface DiscordReplyAddress extends ReplyAddress {
  readonly surface: 'discord';
  /** The thread, DM or channel the answer goes to. */
  readonly channelId: string;
  /** The person's message this answers (message turns). */
  readonly messageId?: string;
  /** The slash command, modal or button press this answers (interaction turns). */
  readonly interactionId?: string;
  /** The application the interaction was for. */
  readonly applicationId?: string;
  /** The largest attachment the channel took when the turn began (its server's limit). */
  readonly maxFileBytes: number;
}

const SNOWFLAKE = /^\d{1,20}$/;

/** A Discord id: safe to put in a REST path. */
export function isSnowflake(value: string): boolean {
  return SNOWFLAKE.test(value);
}

/** The address if it is a well-formed Discord one, else undefined (another adapter's). */
export function parseDiscordAddress(address: ReplyAddress): DiscordReplyAddress | undefined {
  if (address.surface !== 'discord') return undefined;
  const { channelId, messageId, interactionId, applicationId, maxFileBytes } = address;
  if (typeof channelId !== 'string' || !SNOWFLAKE.test(channelId)) return undefined;
  if (typeof maxFileBytes !== 'number' || !Number.isInteger(maxFileBytes) || maxFileBytes <= 0) {
    return undefined;
  }
  const optional = { messageId, interactionId, applicationId };
  for (const value of Object.values(optional)) {
    if (value !== undefined && (typeof value !== 'string' || !SNOWFLAKE.test(value))) {
      return undefined;
    }
  }
  return {
    surface: 'discord',
    channelId,
    maxFileBytes,
    ...(typeof messageId === 'string' ? { messageId } : {}),
    ...(typeof interactionId === 'string' ? { interactionId } : {}),
    ...(typeof applicationId === 'string' ? { applicationId } : {}),
  };
}
