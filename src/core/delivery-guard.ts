import type { Logger } from 'pino';

/**
 * Remembers platform event ids for a while so a redelivered event is handled once. With
 * Redis the memory is shared, so two bot processes behind one Slack app still agree.
 */
export interface DeliveryGuard {
  /** True the first time `id` is seen within the window, false for every repeat. */
  firstDelivery(id: string): Promise<boolean>;
}

/** Slack retries for about an hour at most; Discord resumes replay within minutes. */
export const DELIVERY_WINDOW_MS = 2 * 60 * 60_000;

/**
 * `guard.firstDelivery(id)`, failing open: when the guard's store (Redis) is down, answering
 * an event twice is better than never answering it.
 */
export async function isFirstDelivery(
  guard: DeliveryGuard,
  id: string,
  logger: Logger,
): Promise<boolean> {
  try {
    return await guard.firstDelivery(id);
  } catch (error) {
    logger.warn({ err: error }, 'delivery guard unavailable; handling the event anyway');
    return true;
  }
}
