import { LocalTurns, whenAborted } from './local-turns.ts';
import type { RunningTurns, TurnRegistration } from './running-turns.ts';

/** Running turns of one process: a stop reaches only turns this process runs. */
export class MemoryRunningTurns implements RunningTurns {
  private readonly local = new LocalTurns();

  started(sessionKey: string): Promise<TurnRegistration> {
    const turn = this.local.add(sessionKey);
    return Promise.resolve({
      onStop: (callback) => whenAborted(turn.signal, callback),
      end: () => {
        turn.remove();
        return Promise.resolve();
      },
    });
  }

  stop(sessionKey: string): Promise<boolean> {
    return Promise.resolve(this.local.stop(sessionKey));
  }

  close(): Promise<void> {
    this.local.clear();
    return Promise.resolve();
  }
}
