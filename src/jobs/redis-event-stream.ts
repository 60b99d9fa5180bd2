import type { Redis } from '../redis/connection.ts';
import type { JobEvent } from './job.ts';

/** Events of a finished job stay readable this long (duplicates, late readers). */
const STREAM_TTL_S = 3600;
/** A stream longer than this is a runaway job; older entries are trimmed. */
const STREAM_MAX_LEN = 20_000;

/** Appends one event to a job's stream; the stream expires an hour after its last event. */
export async function appendEvent(redis: Redis, key: string, event: JobEvent): Promise<void> {
  await redis
    .multi()
    .xadd(key, 'MAXLEN', '~', STREAM_MAX_LEN, '*', 'e', JSON.stringify(event))
    .expire(key, STREAM_TTL_S)
    .exec();
}

export interface ReadOptions {
  /** Called whenever a read times out with nothing new, so the reader can look for trouble. */
  readonly onIdle?: () => Promise<JobEvent | undefined>;
  readonly blockMs?: number;
}

/**
 * Follows a job's stream from the start until its `done` event. Needs a connection of its
 * own: XREAD BLOCK holds it. If `onIdle` returns an event (a lost worker), it ends with it.
 */
export async function* readEvents(
  redis: Redis,
  key: string,
  options: ReadOptions = {},
): AsyncGenerator<JobEvent> {
  let lastId = '0-0';
  for (;;) {
    const reply = await redis.xread('BLOCK', options.blockMs ?? 1000, 'STREAMS', key, lastId);
    const entries = reply?.[0]?.[1] ?? [];
    if (entries.length === 0) {
      const synthetic = await options.onIdle?.();
      if (synthetic !== undefined) {
        yield synthetic;
        return;
      }
      continue;
    }
    for (const [id, fields] of entries) {
      lastId = id;
      const json = fields[1];
      if (json === undefined) continue;
      const event = JSON.parse(json) as JobEvent;
      yield event;
      if (event.type === 'done') return;
    }
  }
}
