import type { JobDone, JobEvent } from '../core/job.ts';

/**
 * A job's events for a caller that may give up: once `signal` aborts (the caller cancelled
 * the job), the job gets `graceMs` to end with its own `done`; if it has not, the caller
 * stops waiting with a synthetic `interrupted` end. A caller on SIGTERM must exit even if the
 * job's worker never answers again.
 */
export async function* untilAbandoned(
  events: AsyncIterable<JobEvent>,
  signal: AbortSignal,
  graceMs: number,
): AsyncGenerator<JobEvent> {
  const iterator = events[Symbol.asyncIterator]();
  let deadline: Promise<'gave-up'> | undefined;
  const giveUp = () =>
    new Promise<'gave-up'>((resolve) => setTimeout(resolve, graceMs, 'gave-up').unref());
  if (signal.aborted) deadline = giveUp();
  else signal.addEventListener('abort', () => (deadline = giveUp()), { once: true });
  const abandoned: Promise<'gave-up'> = new Promise((resolve) => {
    const wait = () => void deadline?.then(resolve);
    if (signal.aborted) wait();
    else signal.addEventListener('abort', wait, { once: true });
  });
  for (;;) {
    const next = await Promise.race([iterator.next(), abandoned]);
    if (next === 'gave-up') {
      void iterator.return?.();
      const end: JobDone = {
        type: 'done',
        status: 'interrupted',
        durationMs: 0,
        kernelRestarted: false,
        message: `stopped waiting: the cell did not end within ${graceMs / 1000} s of being cancelled`,
      };
      yield end;
      return;
    }
    if (next.done === true) return;
    yield next.value;
    if (next.value.type === 'done') return;
  }
}
