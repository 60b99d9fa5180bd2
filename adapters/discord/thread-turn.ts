import type { Message } from 'discord.js';
import type { AdapterContext } from '../../src/core/chat-adapter.ts';
import type { InboundMessage } from '../../src/core/inbound-message.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { answerInPlace } from './answer-in-place.ts';
import { openThread, type OpenedPlace } from './thread-opener.ts';

/** A turn started by an interaction that is answered in a thread on a message. */
export interface ThreadTurn {
  /** The message the thread opens on (the ask's reply, or the message being analyzed). */
  readonly starter: Message<true>;
  /** The thread's name: the request's first line, or its file's name. */
  readonly name: string;
  readonly inbound: Omit<InboundMessage, 'sessionKey'>;
  /** The interaction that asked: names the turn in the reply's address. */
  readonly interactionId: string;
  readonly applicationId: string;
  readonly context: AdapterContext;
  readonly logger: Logger;
}

/**
 * Opens the thread (or finds the one the message has) and returns it with a function that
 * answers the turn there, as a mention's turn is answered: typing, progress with Stop, the
 * answer as new messages. Split in two so the caller can point to the thread first.
 */
export async function openThreadTurn(
  turn: ThreadTurn,
): Promise<{ readonly place: OpenedPlace; answer(): Promise<void> }> {
  const { starter, inbound, context, logger } = turn;
  const place = await openThread(starter, turn.name, logger);
  const origin = { interactionId: turn.interactionId, applicationId: turn.applicationId };
  const answer = () => answerInPlace(place, inbound, origin, context, logger);
  return { place, answer };
}
