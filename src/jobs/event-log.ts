import { AsyncQueue } from '../core/async-queue.ts';
import type { JobEvent } from '../core/job.ts';

/**
 * The events of one job, kept in order so any number of readers can follow them from the
 * start (the embedded transport's counterpart of a Redis stream). `done` ends it: there is
 * exactly one terminal event, whatever races happen.
 */
export class JobEventLog extends AsyncQueue<JobEvent> {
  constructor() {
    super({ replay: true, isLast: (event) => event.type === 'done' });
  }
}
