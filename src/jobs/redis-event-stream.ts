import type { Redis } from '../redis/connection.ts';
import type { JobDone, JobEvent } from '../core/job.ts';

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

/*
 * Appends a `done` unless the stream already ends with one, atomically: a job's end may be
 * written by its worker, by a producer that saw the worker die, and by the worker's next life,
 * and readers must see exactly one.
 */
const APPEND_DONE_ONCE = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last > 0 and string.find(last[1][2][2], '"type":"done"', 1, true) then return 0 end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1`;

/** Ends a job's stream with `done` unless it has ended already; true when this call ended it. */
export async function appendDoneOnce(redis: Redis, key: string, done: JobDone): Promise<boolean> {
  const added = await redis.eval(
    APPEND_DONE_ONCE,
    1,
    key,
    JSON.stringify(done),
    STREAM_MAX_LEN,
    STREAM_TTL_S,
  );
  return added === 1;
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
