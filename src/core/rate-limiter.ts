/** Whether an event may go now; a refusal says when the oldest counted event leaves the window. */
export type WindowDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

/**
 * At most a limit of events per key in any window (sliding, not fixed). An event refused is
 * not counted. Implementations: SlidingWindowLimiter (one process's memory) and
 * RedisSlidingWindowLimiter (shared by every process on one Redis, so N bot replicas do not
 * multiply a limit).
 */
export interface RateLimiter {
  /** Counts an event for `key` and allows it, or refuses it when the window is full. */
  take(key: string): Promise<WindowDecision>;
}

export interface RateLimitSpec {
  /** Names the limit (e.g. `user-rate`); in shared storage, limiters of one name share
   *  their counts. */
  readonly name: string;
  /** Most events a key may have in any window. */
  readonly limit: number;
  readonly windowMs: number;
}

/** Makes the limiters a component needs, shared or not as the deployment decides. */
export type RateLimiterFactory = (spec: RateLimitSpec) => RateLimiter;
