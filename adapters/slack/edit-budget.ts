/**
 * Slack rate-limits chat.update per workspace (Tier 3, about 50 a minute), not per message:
 * two long turns editing once a second each would draw 429s, and a 429 pauses the whole Web
 * API client, holding up answers in every thread. Status edits share this budget; an edit
 * over it is skipped (the next one shows the newer state anyway).
 */
export class EditBudget {
  private readonly perMinute: number;
  private readonly recent: number[] = [];

  constructor(perMinute = 40) {
    this.perMinute = perMinute;
  }

  /** True, and counted, when an edit may go now. */
  take(now = Date.now()): boolean {
    while (this.recent.length > 0 && now - (this.recent[0] ?? now) >= 60_000) this.recent.shift();
    if (this.recent.length >= this.perMinute) return false;
    this.recent.push(now);
    return true;
  }
}
