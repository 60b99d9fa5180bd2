import { availableParallelism, freemem } from 'node:os';
import type { Logger } from '../logging/logger.ts';
import type { KernelContainer } from './kernel-container.ts';
import type { PoolSizer } from './pool-sizer.ts';

export interface WarmPoolOptions {
  /** How many ready containers to keep; 0 disables the pool. */
  readonly size: number;
  readonly create: () => Promise<KernelContainer>;
  readonly logger: Logger;
  /** A ready container older than this is not handed out (it would reach its hard lifetime
   *  too soon) but removed. Default: no limit. */
  readonly maxAgeMs?: number;
  /** Wait after a failed start before trying again, so a down Docker is not hammered. Default 5 s. */
  readonly retryDelayMs?: number;
  /** Grows the pool ahead of demand and back (pool-sizer.ts); absent: always `size`. */
  readonly sizer?: PoolSizer;
}

/** How often the pool looks again at its size when nothing else happens (growth, shrinking). */
const RESIZE_INTERVAL_MS = 15_000;

/**
 * Containers started ahead of need, with the data stack already imported, so the first cell
 * of a new thread does not pay for container start and imports. Refilled in the background.
 */
export class WarmPool {
  private readonly ready: KernelContainer[] = [];
  private starting = 0;
  /** Starts under way, so close() can wait for them and remove what they produce. */
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private resizeTimer: NodeJS.Timeout | undefined;
  /** Starts under way at once: as many as the host has CPUs (imports are CPU-bound), at least 2. */
  private readonly parallelStarts = Math.max(2, availableParallelism());

  private readonly options: WarmPoolOptions;

  constructor(options: WarmPoolOptions) {
    this.options = options;
  }

  get readyCount(): number {
    return this.ready.filter((k) => k.alive).length;
  }

  start(): void {
    this.refill();
    if (this.options.sizer !== undefined) {
      this.resizeTimer = setInterval(() => this.resize(), RESIZE_INTERVAL_MS);
      this.resizeTimer.unref();
    }
  }

  /** How many ready containers the pool aims for now. */
  get targetSize(): number {
    const { sizer, size } = this.options;
    if (sizer === undefined || size === 0) return size;
    return sizer.target(Date.now(), this.ready.length + this.starting, freemem());
  }

  /** A ready container: from the pool when one is there, otherwise started now. */
  async take(): Promise<KernelContainer> {
    this.options.sizer?.arrived(Date.now());
    for (let kernel = this.ready.shift(); kernel !== undefined; kernel = this.ready.shift()) {
      if (kernel.alive && !this.tooOld(kernel)) {
        this.refill();
        return kernel;
      }
      void kernel.destroy();
    }
    this.refill();
    return this.options.create();
  }

  private tooOld(kernel: KernelContainer): boolean {
    const { maxAgeMs } = this.options;
    return maxAgeMs !== undefined && Date.now() - kernel.createdAt > maxAgeMs;
  }

  /** Resolves once the pool holds `size` ready containers (for tests and benchmarks). */
  async whenFull(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.readyCount < this.options.size) {
      if (Date.now() > until) throw new Error('warm pool did not fill in time');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private refill(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    // Starts run in parallel up to the host's CPUs: imports are CPU-bound, and the host has
    // cells to run too.
    const target = this.targetSize;
    while (this.ready.length + this.starting < target && this.starting < this.parallelStarts) {
      this.starting += 1;
      const started: Promise<void> = this.options
        .create()
        .then(async (kernel) => {
          if (this.closed) await kernel.destroy();
          else this.ready.push(kernel);
        })
        .catch((error: unknown) => {
          this.options.logger.warn(
            { err: error },
            'warm pool could not start a sandbox; will retry',
          );
          this.retryTimer ??= setTimeout(() => {
            this.retryTimer = undefined;
            this.refill();
          }, this.options.retryDelayMs ?? 5000).unref();
        })
        .finally(() => {
          this.starting -= 1;
          this.inFlight.delete(started);
          this.refill();
        });
      this.inFlight.add(started);
    }
  }

  /** Grows toward the target, and lets go of ready containers above it (the oldest first). */
  private resize(): void {
    if (this.closed) return;
    const extra = this.ready.length - this.targetSize;
    for (const kernel of this.ready.splice(0, Math.max(0, extra))) void kernel.destroy();
    this.refill();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.resizeTimer);
    await Promise.all(this.inFlight);
    const kernels = this.ready.splice(0);
    await Promise.all(kernels.map((k) => k.destroy()));
  }
}
