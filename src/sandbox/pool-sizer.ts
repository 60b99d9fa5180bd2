/**
 * How many warm kernels a worker keeps ready: the resting size the operator set
 * (SANDBOX_POOL_SIZE), grown ahead of demand when new sessions arrive faster than that covers,
 * bounded by SANDBOX_POOL_MAX and by free memory, and back to rest once arrivals stop.
 *
 * The policy, in numbers (docs/production.md, "Warm pool"): the pool aims to hold as many
 * kernels as new sessions arrived in the busiest minute (ARRIVAL_WINDOW_MS) of the last five
 * (IDLE_MS): a refill takes about a second, so the pool should absorb the next burst of that
 * size, and a burst on a busy morning is likely to repeat. Never fewer than the resting size,
 * never more than the maximum, and never more than free memory leaves room for (each kernel's
 * memory limit, with a reserve for the host). Five minutes without an arrival bring the target
 * back to the resting size, and the extra kernels are let go. Pure and clock-free: callers pass
 * the time, so it is tested with a fake clock.
 */
export interface PoolSizerOptions {
  /** The resting size (SANDBOX_POOL_SIZE). */
  readonly restingSize: number;
  /** The ceiling (SANDBOX_POOL_MAX); below the resting size, the resting size wins. */
  readonly maxSize: number;
  /** What one more kernel may use (its memory limit). */
  readonly kernelMemoryBytes: number;
  /** Memory left to the host and running cells, never given to warm kernels. */
  readonly reserveBytes?: number;
}

export const ARRIVAL_WINDOW_MS = 60_000;
export const IDLE_MS = 5 * 60_000;
const DEFAULT_RESERVE_BYTES = 1024 * 1024 * 1024;

export class PoolSizer {
  private readonly options: PoolSizerOptions;
  /** Times of recent arrivals (new sessions taking a kernel), oldest first. */
  private readonly arrivals: number[] = [];

  constructor(options: PoolSizerOptions) {
    this.options = options;
  }

  /** A new session took (or wanted) a kernel at `nowMs`. */
  arrived(nowMs: number): void {
    this.arrivals.push(nowMs);
    this.forget(nowMs);
  }

  /**
   * How many ready kernels to hold at `nowMs`, given `readyCount` held now and the host's
   * `freeMemoryBytes`: growth stops where memory would run short, but what is ready stays.
   */
  target(nowMs: number, readyCount: number, freeMemoryBytes: number): number {
    this.forget(nowMs);
    const { restingSize } = this.options;
    const maxSize = Math.max(restingSize, this.options.maxSize);
    const last = this.arrivals.at(-1);
    if (last === undefined || nowMs - last >= IDLE_MS) return restingSize;
    const wanted = Math.min(maxSize, Math.max(restingSize, this.busiestMinute()));
    if (wanted <= readyCount) return wanted;
    const reserve = this.options.reserveBytes ?? DEFAULT_RESERVE_BYTES;
    const room = Math.floor(
      Math.max(0, freeMemoryBytes - reserve) / Math.max(1, this.options.kernelMemoryBytes),
    );
    return Math.max(restingSize, Math.min(wanted, readyCount + room));
  }

  /** The most arrivals within one ARRIVAL_WINDOW_MS among those remembered. */
  private busiestMinute(): number {
    let most = 0;
    for (const [i, end] of this.arrivals.entries()) {
      const inWindow = this.arrivals.slice(0, i + 1).filter((at) => end - at < ARRIVAL_WINDOW_MS);
      most = Math.max(most, inWindow.length);
    }
    return most;
  }

  /** Arrivals older than the idle time matter to nothing. */
  private forget(nowMs: number): void {
    while (this.arrivals.length > 0 && nowMs - (this.arrivals[0] ?? 0) >= IDLE_MS) {
      this.arrivals.shift();
    }
    // A flood of arrivals is bounded: the window never needs more than the maximum.
    const keep = Math.max(this.options.maxSize, this.options.restingSize) * 4 + 16;
    if (this.arrivals.length > keep) this.arrivals.splice(0, this.arrivals.length - keep);
  }
}
