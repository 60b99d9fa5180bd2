import type { Redis } from '../redis/connection.ts';

/** Idle readers kept for the next jobs; more than this at once are closed when done. */
const DEFAULT_MAX_IDLE = 16;

/**
 * Connections for following jobs' streams. XREAD BLOCK holds a connection, so each followed
 * job needs one of its own; opening a fresh one per job put a TCP connect and a handshake
 * (several milliseconds on a loaded host) in front of the first read of every cell. A reader
 * goes back to the pool only when no command of it is in flight.
 */
export class ReaderPool {
  private readonly source: Redis;
  private readonly maxIdle: number;
  private readonly idle: Redis[] = [];
  private readonly busy = new Set<Redis>();
  private closed = false;

  constructor(source: Redis, maxIdle = DEFAULT_MAX_IDLE) {
    this.source = source;
    this.maxIdle = maxIdle;
  }

  take(): Redis {
    const reader = this.idle.pop() ?? this.open();
    this.busy.add(reader);
    return reader;
  }

  /**
   * Gives a reader back. `quiet` says no command of it is in flight (its read ended or was
   * not running); a reader that failed or may still be blocked is closed instead.
   */
  give(reader: Redis, quiet: boolean): void {
    this.busy.delete(reader);
    const keep =
      quiet && !this.closed && reader.status === 'ready' && this.idle.length < this.maxIdle;
    if (keep) this.idle.push(reader);
    else reader.disconnect();
  }

  close(): void {
    this.closed = true;
    for (const reader of [...this.idle, ...this.busy]) reader.disconnect();
    this.idle.length = 0;
    this.busy.clear();
  }

  private open(): Redis {
    const reader = this.source.duplicate();
    // Trouble on a reader shows as a failed read, and the producer's connection reports it.
    reader.on('error', () => undefined);
    return reader;
  }
}
