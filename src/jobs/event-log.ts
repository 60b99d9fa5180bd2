import type { JobEvent } from './job.ts';

/**
 * The events of one job, kept in order so any number of readers can follow them from the
 * start (the embedded transport's counterpart of a Redis stream). Ends after `done`.
 */
export class JobEventLog {
  private readonly events: JobEvent[] = [];
  private waiters: (() => void)[] = [];

  get finished(): boolean {
    return this.events.at(-1)?.type === 'done';
  }

  append(event: JobEvent): void {
    if (this.finished) return; // exactly one terminal event, whatever races happen
    this.events.push(event);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  async *read(): AsyncGenerator<JobEvent> {
    let index = 0;
    for (;;) {
      const event = this.events[index];
      if (event !== undefined) {
        index += 1;
        yield event;
        if (event.type === 'done') return;
        continue;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}
