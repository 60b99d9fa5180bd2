import { SandbotError } from '../core/errors.ts';
import type { ExitInfo } from './kernel-container.ts';
import type { RunnerFrame, RunnerRequest } from './protocol.ts';

/** What an exchange needs of a kernel container. */
export interface RunnerChannel {
  subscribe(id: string, listener: (frame: RunnerFrame) => void): () => void;
  onExit(listener: (info: ExitInfo) => void): () => void;
  send(request: RunnerRequest): void;
}

/**
 * Sends `request` (or several requests with one id, in order) and hands each frame carrying
 * its id to `take` until `take` returns a value. Rejects when no frame came for `stallMs` (the
 * timer restarts with every frame, so a long answer in many frames is not cut short) or when
 * the container exits.
 */
export function exchange<T>(
  channel: RunnerChannel,
  requests: RunnerRequest | readonly [RunnerRequest, ...RunnerRequest[]],
  stallMs: number,
  take: (frame: RunnerFrame) => T | undefined,
): Promise<T> {
  const all: readonly RunnerRequest[] = 'type' in requests ? [requests] : requests;
  const request = all[0] as RunnerRequest;
  return new Promise<T>((resolve, reject) => {
    const stalled = () => {
      done();
      reject(new SandbotError('SANDBOX_PROTOCOL', `the sandbox did not answer ${request.type}`));
    };
    let timer = setTimeout(stalled, stallMs);
    const unsubscribe = channel.subscribe(request.id, (frame) => {
      const value = take(frame);
      if (value === undefined) {
        clearTimeout(timer);
        timer = setTimeout(stalled, stallMs);
        return;
      }
      done();
      resolve(value);
    });
    // Assigned below: onExit calls back at once when the container has already exited (then
    // send throws, which settles nothing more).
    let stopExit = (): void => undefined;
    stopExit = channel.onExit(() => {
      done();
      reject(new SandbotError('SANDBOX_GONE', 'the sandbox container has exited'));
    });
    function done(): void {
      clearTimeout(timer);
      unsubscribe();
      stopExit();
    }
    try {
      for (const each of all) channel.send(each);
    } catch (error) {
      done();
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
}
