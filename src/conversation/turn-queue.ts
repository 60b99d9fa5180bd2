/**
 * One turn at a time per thread: tasks for the same key run in the order they were queued,
 * each after the previous one ends (whether it succeeded or failed); different keys run side
 * by side. Nothing queued is dropped. (One bot process per deployment; several bot
 * processes would need a lock in Redis instead.)
 */
export class TurnQueue {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly depth = new Map<string, number>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    this.depth.set(key, (this.depth.get(key) ?? 0) + 1);
    void tail.then(() => {
      const left = (this.depth.get(key) ?? 1) - 1;
      if (left === 0) {
        this.depth.delete(key);
        this.tails.delete(key);
      } else {
        this.depth.set(key, left);
      }
    });
    return result;
  }

  /** Turns queued or running for the thread (to say "queued behind N"). */
  pending(key: string): number {
    return this.depth.get(key) ?? 0;
  }
}
