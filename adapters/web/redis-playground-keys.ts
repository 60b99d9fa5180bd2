/**
 * Every Redis key and channel of the playground, in one place, under the deployment's
 * REDIS_PREFIX (deployments and tests sharing one Redis stay apart).
 */
export class PlaygroundKeys {
  private readonly base: string;

  constructor(prefix: string) {
    this.base = `${prefix}:playground:`;
  }

  /** Ids of every thread (a set): the list the page shows. */
  get threads(): string {
    return `${this.base}threads`;
  }

  /** One thread: `doc` (its JSON) and `rev` (a counter each write bumps), a hash. */
  thread(id: string): string {
    return `${this.base}thread:${id}`;
  }

  /** The live status of the thread's running turn: `messageId` and `text`, a hash with a TTL. */
  progress(threadId: string): string {
    return `${this.base}thread:${threadId}:progress`;
  }

  /** Every file key is this plus the file's id. */
  get filePrefix(): string {
    return `${this.base}file:`;
  }

  /** One file: `meta` (JSON) and `data` (its bytes, absent for an upload over the limit). */
  file(id: string): string {
    return `${this.filePrefix}${id}`;
  }

  /** File ids oldest first (a list), which is what the byte budget's eviction needs. */
  get fileOrder(): string {
    return `${this.base}files`;
  }

  /** Bytes of every kept file together (a counter). */
  get fileBytes(): string {
    return `${this.base}file-bytes`;
  }

  /** Pub/sub channel of the page events, so every replica's pages hear every replica's turns. */
  get events(): string {
    return `${this.base}events`;
  }
}
