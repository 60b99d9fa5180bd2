import { setImmediate as afterPendingWork } from 'node:timers/promises';

/**
 * The record of a turn's last tool results (a store write, about 0.2 ms), held back until
 * the next model request is out, so the model reads them meanwhile (issue 19: the bot's share
 * of a turn). A turn resumed in between runs that call again, under the same job id.
 */
export class HeldRecord {
  private readonly record: () => Promise<void> | undefined;
  private held = false;

  constructor(record: () => Promise<void> | undefined) {
    this.record = record;
  }

  /** The turn has tool results not recorded yet. */
  hold(): void {
    this.held = true;
  }

  /** Writes a held record now. */
  async flush(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    await this.record();
  }

  /**
   * The model's answer to `request`, once a held record is written too: the write starts
   * when the request has gone out (after the work pending now), and is awaited either way.
   */
  async whileAsking<T>(request: Promise<T>): Promise<T> {
    if (!this.held) return request;
    const writing = afterPendingWork().then(() => this.flush());
    // Awaited only once the model has answered: meanwhile a failure is not unhandled.
    writing.catch(() => undefined);
    try {
      return await request;
    } finally {
      await writing;
    }
  }
}
