import { SlidingWindowLimiter } from '../../src/core/sliding-window-limiter.ts';

/**
 * Slack rate-limits chat.update per workspace (Tier 3, about 50 a minute), not per message:
 * two long turns editing once a second each would draw 429s, and a 429 pauses the whole Web
 * API client, holding up answers in every thread. Status edits share this budget; an edit
 * over it is skipped (the next one shows the newer state anyway).
 */
export class EditBudget {
  private readonly window: SlidingWindowLimiter;

  constructor(perMinute = 40) {
    this.window = new SlidingWindowLimiter({ limit: perMinute, windowMs: 60_000 });
  }

  /** True, and counted, when an edit may go now. */
  take(nowMs = Date.now()): boolean {
    return this.window.take('workspace', nowMs).allowed;
  }
}
