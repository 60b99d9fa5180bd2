/**
 * A bounded memory of thread keys, oldest forgotten first. A thread's session is stored when
 * its first turn ends; until then this is what says "the bot is active here", so a reply
 * written while the first answer is still being worked on is not ignored.
 */
export class RecentThreads {
  private readonly keys = new Set<string>();
  private readonly capacity: number;

  constructor(capacity = 10_000) {
    this.capacity = capacity;
  }

  add(key: string): void {
    this.keys.delete(key);
    this.keys.add(key);
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.values().next();
      if (oldest.done !== true) this.keys.delete(oldest.value);
    }
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }
}
