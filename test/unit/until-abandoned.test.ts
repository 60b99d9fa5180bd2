import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobEvent } from '../../src/core/job.ts';
import { untilAbandoned } from '../../src/jobs/until-abandoned.ts';

/** Events that arrive when the test pushes them, and never end by themselves. */
function openEnded() {
  const waiting: ((event: JobEvent) => void)[] = [];
  const queued: JobEvent[] = [];
  const events: AsyncIterable<JobEvent> = {
    [Symbol.asyncIterator]: () => ({
      next: () =>
        new Promise((resolve) => {
          const event = queued.shift();
          if (event !== undefined) resolve({ value: event, done: false });
          else waiting.push((e) => resolve({ value: e, done: false }));
        }),
      return: () => Promise.resolve({ value: undefined, done: true }),
    }),
  };
  const push = (event: JobEvent) => {
    const waiter = waiting.shift();
    if (waiter === undefined) queued.push(event);
    else waiter(event);
  };
  return { events, push };
}

async function collect(events: AsyncIterable<JobEvent>): Promise<JobEvent[]> {
  const all: JobEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe('untilAbandoned', () => {
  afterEach(() => vi.useRealTimers());

  it("passes the job's own events through, ending with its done", async () => {
    const { events, push } = openEnded();
    const controller = new AbortController();
    push({ type: 'stdout', text: 'hi' });
    push({ type: 'done', status: 'ok', durationMs: 1, kernelRestarted: false });
    expect(await collect(untilAbandoned(events, controller.signal, 5000))).toEqual([
      { type: 'stdout', text: 'hi' },
      { type: 'done', status: 'ok', durationMs: 1, kernelRestarted: false },
    ]);
  });

  it('keeps waiting for the cancelled job to end within the grace', async () => {
    vi.useFakeTimers();
    const { events, push } = openEnded();
    const controller = new AbortController();
    const all = collect(untilAbandoned(events, controller.signal, 5000));
    controller.abort();
    await vi.advanceTimersByTimeAsync(4000);
    push({ type: 'done', status: 'interrupted', durationMs: 1, kernelRestarted: false });
    expect((await all).map((e) => e.type === 'done' && e.status)).toEqual(['interrupted']);
  });

  it('stops waiting with `interrupted` when a cancelled job never ends', async () => {
    vi.useFakeTimers();
    const { events } = openEnded();
    const controller = new AbortController();
    const all = collect(untilAbandoned(events, controller.signal, 5000));
    controller.abort();
    await vi.advanceTimersByTimeAsync(5000);
    expect(await all).toEqual([
      expect.objectContaining({
        type: 'done',
        status: 'interrupted',
        message: 'stopped waiting: the cell did not end within 5 s of being cancelled',
      }),
    ]);
  });
});
