/**
 * Runs tasks one at a time in the order they were queued, each after the previous one ends
 * (whether it succeeded or failed). Nothing queued is dropped, and a failure reaches only
 * the caller of the task that failed.
 */
export class Serializer {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;

  run<T>(task: () => Promise<T>): Promise<T> {
    this.queued += 1;
    const result = this.tail.then(task, task);
    // Registered before the caller can await `result`, so a caller that resumes after its
    // task already sees `pending` without it.
    const settle = () => {
      this.queued -= 1;
    };
    this.tail = result.then(settle, settle);
    return result;
  }

  /** Tasks queued or running. */
  get pending(): number {
    return this.queued;
  }
}

/**
 * One `Serializer` per key: tasks for the same key run one at a time in order, different
 * keys run side by side. A key's lane is forgotten once it has nothing pending, so keys that
 * come and go (threads) cost nothing afterwards. In-process only: serializing across
 * processes needs a lock in Redis instead.
 */
export class KeyedSerializer {
  private readonly lanes = new Map<string, Serializer>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(key);
    if (lane === undefined) {
      lane = new Serializer();
      this.lanes.set(key, lane);
    }
    const result = lane.run(task);
    const forget = () => {
      if (lane.pending === 0 && this.lanes.get(key) === lane) this.lanes.delete(key);
    };
    void result.then(forget, forget);
    return result;
  }

  /** Tasks queued or running for `key`. */
  pending(key: string): number {
    return this.lanes.get(key)?.pending ?? 0;
  }

  /** Resolves once every task queued so far, on every key, has ended. */
  async idle(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((lane) => lane.run(() => Promise.resolve())));
  }
}
