import type { RateLimiter, RateLimiterFactory } from '../../src/core/rate-limiter.ts';
import { memoryRateLimiters } from '../../src/core/sliding-window-limiter.ts';

export interface EditBudgetOptions {
  /** Edits a minute across every status message. Default 40 (Slack allows about 50). */
  readonly perMinute?: number;
  /** Where edits are counted. Default: this process's memory; with REDIS_URL the bot passes
   *  Redis-backed limiters so every replica draws from the workspace's one budget. */
  readonly limiters?: RateLimiterFactory;
}

/**
 * Slack rate-limits chat.update per workspace (Tier 3, about 50 a minute), not per message:
 * two long turns editing once a second each would draw 429s, and a 429 pauses the whole Web
 * API client, holding up answers in every thread. Status edits share this budget; an edit
 * over it is skipped (the next one shows the newer state anyway).
 */
export class EditBudget {
  private readonly window: RateLimiter;

  constructor(options: EditBudgetOptions = {}) {
    const limiters = options.limiters ?? memoryRateLimiters();
    this.window = limiters({
      name: 'slack-edits',
      limit: options.perMinute ?? 40,
      windowMs: 60_000,
    });
  }

  /** True, and counted, when an edit may go now. */
  async take(): Promise<boolean> {
    // One bot token is one workspace, so one key: the replicas of a deployment share it.
    // A limiter that fails (Redis unreachable) skips the edit: status edits are optional.
    const decision = await this.window.take('workspace').catch(() => ({ allowed: false }));
    return decision.allowed;
  }
}
