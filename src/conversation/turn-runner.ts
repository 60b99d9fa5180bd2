import { setImmediate as afterPendingWork } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ClaimedTurn, TurnProgress, TurnStore } from '../core/turn-store.ts';

/** What a runner hands the code that performs one turn. */
export interface TurnWork {
  readonly claimed: ClaimedTurn;
  /** Records progress durably; throws `LeaseLost` when another runner has the turn now. */
  record(progress: TurnProgress): Promise<void>;
  /** Aborted when the lease is lost. */
  readonly signal: AbortSignal;
  /** Aborted when this runner is shutting down: a turn failing then is left to be resumed. */
  readonly stopping: AbortSignal;
}

/** Performs one turn: reads `claimed.turn`, answers it, records progress on the way. */
export type TurnHandler = (work: TurnWork) => Promise<void>;

/** What a claim loop's wait yields when the runner stops first. */
const STOPPED: unique symbol = Symbol('stopped');

export class LeaseLost extends Error {
  override readonly name = 'LeaseLost';
}

export interface TurnRunnerOptions {
  readonly store: TurnStore;
  /** Names this process in leases (for logs and operators). */
  readonly runnerId: string;
  readonly handler: TurnHandler;
  readonly logger: Logger;
  /** A dead runner's turn is resumed elsewhere after this long. Default 30 s. */
  readonly leaseMs?: number;
  /** Turns of different threads run side by side, up to this many. Default 8. */
  readonly concurrency?: number;
}

/**
 * Takes turns from the durable store and runs them: one at a time per thread (the store's
 * lease), several threads at once, in every bot process. A turn is completed only after its
 * handler returned; a runner that dies leaves it leased until the lease expires, then another
 * runner (or this one, restarted) claims it again, resumed, with the progress it recorded.
 */
export class TurnRunner {
  private readonly options: TurnRunnerOptions;
  private readonly leaseMs: number;
  private readonly concurrency: number;
  private readonly running = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(options: TurnRunnerOptions) {
    this.options = options;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.concurrency = options.concurrency ?? 8;
  }

  start(): void {
    this.loop ??= this.claimLoop();
  }

  /** How many turns this runner is running now. */
  get active(): number {
    return this.running.size;
  }

  /**
   * Stops claiming. Running turns get `graceMs` to finish; those still running then are
   * abandoned, not completed, so their leases lapse and another process resumes them.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping.abort();
    await this.loop;
    const all = Promise.all(this.running);
    const grace = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([all, grace]);
  }

  private async claimLoop(): Promise<void> {
    const signal = this.stopping.signal;
    // One promise for the whole loop: a listener per claim would pile up on the signal.
    const stopped = aborted(signal).then((): typeof STOPPED => STOPPED);
    while (!signal.aborted) {
      if (this.running.size >= this.concurrency) {
        await Promise.race([...this.running, stopped]);
        continue;
      }
      // A claim waits while Redis is away (its commands wait for the reconnect); stopping
      // must not. A claim that lands after this runner stopped leaves its turn leased to
      // nobody: the lease lapses and another runner resumes it.
      const claimed = await Promise.race([this.claimOne(), stopped]);
      if (claimed === STOPPED) break;
      if (claimed === undefined) {
        await this.options.store.waitForWork(1000, signal).catch(() => undefined);
        continue;
      }
      const run = this.run(claimed).finally(() => this.running.delete(run));
      this.running.add(run);
      // The next claim (a store transaction) waits until the turn just taken has sent what
      // it sends first (its model request): within the same tick it would go in between.
      await afterPendingWork();
    }
  }

  private async claimOne(): Promise<ClaimedTurn | undefined> {
    try {
      return await this.options.store.claim(this.options.runnerId, this.leaseMs);
    } catch (error) {
      // The store is away (Redis down): its health is reported elsewhere; try again soon.
      this.options.logger.debug({ err: error }, 'could not claim a turn');
      await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      return undefined;
    }
  }

  private async run(claimed: ClaimedTurn): Promise<void> {
    const { store, logger } = this.options;
    const controller = new AbortController();
    const log = logger.child({
      turn: claimed.turn.turnId,
      session: claimed.turn.message.sessionKey,
    });
    const renewal = setInterval(() => {
      store.renew(claimed, this.leaseMs).then(
        (held) => {
          if (!held) controller.abort(new LeaseLost('the turn was taken over by another runner'));
        },
        (error: unknown) => log.debug({ err: error }, 'could not renew a turn lease'),
      );
    }, this.leaseMs / 3);
    try {
      await this.options.handler({
        claimed,
        signal: controller.signal,
        stopping: this.stopping.signal,
        record: async (progress) => {
          if (!(await store.record(claimed, progress))) throw new LeaseLost('lease lost');
        },
      });
      await store.complete(claimed);
    } catch (error) {
      if (error instanceof LeaseLost) {
        log.warn('lease lost; another runner has the turn');
        return;
      }
      if (this.stopping.signal.aborted) {
        // Shutting down (a deploy): the lease lapses and another process resumes the turn.
        log.info('left unfinished at shutdown; it will be resumed');
        return;
      }
      // Handlers answer the user's failures themselves; one that throws would throw again on
      // every retry, so the turn is completed rather than left to come back for ever.
      log.error({ err: error }, 'turn handler failed; the turn is dropped');
      await store.complete(claimed).catch(() => undefined);
    } finally {
      clearInterval(renewal);
    }
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
