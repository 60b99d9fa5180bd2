import type { Message, SendableChannels } from 'discord.js';
import type { Logger } from '../../src/logging/logger.ts';
import { errorFields, refusalOf } from './discord-errors.ts';

export interface OpenedPlace {
  /** Where the turn is answered. */
  readonly channel: SendableChannels;
  /** Set when no thread could be opened: said in the channel before the answer. */
  readonly notice?: string;
}

/**
 * A mention in a channel (or /sandbot ask, or "Analyze with sandbot") opens a thread from that
 * message, named after the request; the thread is the session. Where threads cannot be opened (no Create Public Threads
 * permission, a channel type without threads) the answer goes to the channel, saying why.
 */
export async function openThread(
  message: Message<true>,
  name: string,
  logger: Logger,
): Promise<OpenedPlace> {
  // "Analyze with sandbot" on a message that already has a thread: the answer goes there.
  const existing = message.thread;
  if (existing !== null && existing.isSendable()) return { channel: existing };
  try {
    return { channel: await message.startThread({ name }) };
  } catch (error) {
    logger.warn(errorFields(error), 'could not open a thread; answering in the channel');
    if (!message.channel.isSendable()) throw error;
    const why =
      refusalOf(error) === 'missing-permissions'
        ? 'I am not allowed to create threads here (the Create Public Threads permission is missing)'
        : 'I could not open a thread here';
    return {
      channel: message.channel,
      notice: `${why}, so I am answering in this channel; mention me here to continue.`,
    };
  }
}
