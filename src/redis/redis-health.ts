import type { Logger } from '../logging/logger.ts';

export interface RedisHealthOptions {
  readonly logger: Logger;
  /** While Redis stays unreachable, one line per this interval. Default 30 s. */
  readonly reportEveryMs?: number;
  /** Injectable for tests. */
  readonly now?: () => number;
}

/**
 * Whether this process's Redis connections are up, for /healthz, and the one place their
 * failures are logged: ioredis retries with backoff by itself (up to every 2 s), and a line
 * per attempt from every connection would bury the log. This logs when Redis goes away,
 * once per interval while it stays away, and when it is back.
 */
export class RedisHealth {
  private readonly logger: Logger;
  private readonly reportEveryMs: number;
  private readonly now: () => number;
  private readonly down = new Set<string>();
  private downSince: number | undefined;
  private lastReport: number | undefined;
  private lastError = '';

  constructor(options: RedisHealthOptions) {
    this.logger = options.logger;
    this.reportEveryMs = options.reportEveryMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** True while every watched connection is up (or has not been opened yet). */
  get ok(): boolean {
    return this.down.size === 0;
  }

  /**
   * Follows one connection: an error or a scheduled reconnect marks it down until it is ready
   * again; `end` (closed on purpose, never to reconnect) stops counting it.
   */
  watch(connection: NodeJS.EventEmitter, name: string): void {
    connection.on('error', (error: Error) => this.failed(name, error));
    connection.on('reconnecting', () => this.failed(name));
    connection.on('ready', () => this.recovered(name));
    connection.on('end', () => this.forget(name));
  }

  /** For errors from libraries that own their connections (BullMQ): logged, throttled. */
  report(error: unknown): void {
    this.lastError = describeError(error);
    this.log();
  }

  /** A connection closed on purpose (shutdown) no longer counts. */
  forget(name: string): void {
    this.down.delete(name);
  }

  private failed(name: string, error?: Error): void {
    if (error !== undefined) this.lastError = describeError(error);
    this.down.add(name);
    this.downSince ??= this.now();
    this.log();
  }

  private recovered(name: string): void {
    this.down.delete(name);
    if (this.down.size > 0 || this.downSince === undefined) return;
    const seconds = Math.round((this.now() - this.downSince) / 1000);
    this.downSince = undefined;
    this.lastReport = undefined;
    this.logger.info({ downSeconds: seconds }, `Redis is reachable again after ${seconds} s`);
  }

  private log(): void {
    const now = this.now();
    if (this.lastReport !== undefined && now - this.lastReport < this.reportEveryMs) return;
    this.lastReport = now;
    const seconds = Math.round((now - (this.downSince ?? now)) / 1000);
    this.logger.warn(
      { err: this.lastError, downSeconds: seconds },
      seconds === 0
        ? `Redis is unreachable (${this.lastError}); retrying with backoff`
        : `Redis still unreachable after ${seconds} s (${this.lastError}); retrying`,
    );
  }
}

/**
 * An error in a few words. A refused connection to a name with several addresses is an
 * AggregateError whose own message is empty: its code, or its first cause, says what happened.
 */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message !== '') return error.message;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const first: unknown = error instanceof AggregateError ? error.errors[0] : undefined;
  return first instanceof Error && first.message !== '' ? first.message : error.name;
}
