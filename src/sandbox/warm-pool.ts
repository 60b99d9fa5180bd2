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
  /** Starts under way at once. Default: as many as the host has CPUs (imports are
   *  CPU-bound), at least 2. */
  readonly parallelStarts?: number;
}

/** How often the pool looks again at its size when nothing else happens (growth, shrinking). */
const RESIZE_INTERVAL_MS = 15_000;

/** A new session that found the pool empty, waiting for the next kernel that is ready. */
interface Waiter {
  readonly resolve: (kernel: KernelContainer) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Containers started ahead of need, with the data stack already imported, so the first cell
 * of a new thread does not pay for container start and imports. Refilled in the background.
 */
export class WarmPool {
  private readonly ready: KernelContainer[] = [];
  /** Sessions waiting for a kernel, oldest first: each start's kernel goes to the oldest. */
  private readonly waiters: Waiter[] = [];
  private starting = 0;
  /** Starts under way, so close() can wait for them and remove what they produce. */
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private resizeTimer: NodeJS.Timeout | undefined;
  private readonly parallelStarts: number;

  private readonly options: WarmPoolOptions;

  constructor(options: WarmPoolOptions) {
    this.options = options;
    this.parallelStarts = options.parallelStarts ?? Math.max(2, availableParallelism());
  }

  get readyCount(): number {
    return this.ready.filter((k) => k.alive).length;
  }

  /** New sessions waiting for a kernel now (the pool was empty when they came). */
  get waitingCount(): number {
    return this.waiters.length;
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

  /**
   * A ready container: from the pool when one is there, otherwise the next one any start
   * produces, first come first served. In a burst, starts run at most `parallelStarts` at a
   * time and each goes to the oldest waiting session: twenty imports at once on two cores all
   * finish late together (and past the ready timeout on a loaded host), while a bounded queue
   * serves the first sessions within a start or two and the rest in arrival order.
   */
  async take(): Promise<KernelContainer> {
    this.options.sizer?.arrived(Date.now());
    for (let kernel = this.ready.shift(); kernel !== undefined; kernel = this.ready.shift()) {
      if (kernel.alive && !this.tooOld(kernel)) {
        this.refill();
        return kernel;
      }
      void kernel.destroy();
    }
    if (this.closed) return this.options.create();
    return new Promise<KernelContainer>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.refill();
    });
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

  /** How many starts the pool wants under way now: its target, plus one per waiting session. */
  private wantedStarts(): number {
    // After a failed start, background refills wait (a down Docker is not hammered), but a
    // waiting session still gets its start, as it would have without a pool.
    const background = this.retryTimer === undefined ? this.targetSize : 0;
    return Math.max(0, background - this.ready.length) + this.waiters.length;
  }

  private refill(): void {
    if (this.closed) return;
    // Starts run in parallel up to the host's CPUs: imports are CPU-bound, and the host has
    // cells to run too.
    while (this.starting < this.wantedStarts() && this.starting < this.parallelStarts) {
      this.starting += 1;
      const started: Promise<void> = this.options
        .create()
        .then(async (kernel) => {
          const waiter = this.waiters.shift();
          if (waiter !== undefined) waiter.resolve(kernel);
          else if (this.closed) await kernel.destroy();
          else this.ready.push(kernel);
        })
        .catch((error: unknown) => {
          // The oldest waiting session hears why (its cell fails, as a start of its own would
          // have); the pool tries again later for the others.
          const waiter = this.waiters.shift();
          if (waiter !== undefined) {
            waiter.reject(error);
            return;
          }
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
    // Starts under way still serve the sessions waiting for them; nothing new is started.
    await Promise.all(this.inFlight);
    for (const waiter of this.waiters.splice(0)) {
      waiter.reject(new Error('the warm pool closed before a sandbox was ready'));
    }
    const kernels = this.ready.splice(0);
    await Promise.all(kernels.map((k) => k.destroy()));
  }
}
