export interface AsyncQueueOptions<T> {
  /**
   * Every reader follows the items from the first one, however late it starts (a job's
   * events, read again by a duplicate submission); items are then kept as long as the
   * queue. Default false: one reader, and each item is let go once it has been read (a
   * cell's events can carry large files).
   */
  readonly replay?: boolean;
  /**
   * Marks the item that ends the queue: pushing it ends the queue, so whatever is pushed
   * after it (a late event from a race) is dropped. Default: only `end()`/`fail()` end it.
   */
  readonly isLast?: (item: T) => boolean;
}

/**
 * A queue that is also an async iterable: producers push from callbacks (Docker streams,
 * Redis, timers), readers consume with `for await`, and `end()`/`fail()` finish the
 * iteration once the items before them have been read.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  /** How many items were let go from the front: `items[0]` is item number `released`. */
  private released = 0;
  private readers = 0;
  private waiters: (() => void)[] = [];
  private ended = false;
  private failure: { readonly error: unknown } | undefined;
  private readonly replay: boolean;
  private readonly isLast: ((item: T) => boolean) | undefined;

  constructor(options: AsyncQueueOptions<T> = {}) {
    this.replay = options.replay ?? false;
    this.isLast = options.isLast;
  }

  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    if (this.isLast?.(item) === true) this.ended = true;
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  /** Ends the queue with an error that readers get after the items pushed before it. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.failure = { error };
    this.ended = true;
    this.wake();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    if (!this.replay && this.readers > 0) {
      throw new Error('this AsyncQueue has one reader; pass { replay: true } for more');
    }
    this.readers += 1;
    let next = 0;
    for (;;) {
      if (next < this.released + this.items.length) {
        const item = this.items[next - this.released] as T;
        next += 1;
        if (!this.replay) {
          this.items.shift();
          this.released += 1;
        }
        yield item;
        continue;
      }
      if (this.ended) {
        if (this.failure !== undefined) throw this.failure.error;
        return;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}
