import type { CheckpointSettings } from '../core/config.ts';
import { formatBytes } from '../core/bytes.ts';
import type { Logger } from '../logging/logger.ts';
import type { Sandbox } from '../sandbox/sandbox.ts';
import type { CheckpointStore, LoadedCheckpoint } from './checkpoint-store.ts';
import { restoredNotice } from './restore-notice.ts';

/** How long a drain or a reap waits for one session's save before it goes on without it. */
const SAVE_BEFORE_RETIRE_MS = 15_000;

export interface CheckpointKeeperOptions {
  readonly store: CheckpointStore;
  readonly settings: CheckpointSettings;
  /** The session's sandbox on this worker, if it has one (never creates one). */
  readonly sandboxOf: (sessionId: string) => Sandbox | undefined;
  readonly logger: Logger;
  readonly now?: () => number;
}

/**
 * When a worker saves and restores sessions' checkpoints (docs/checkpoints.md): a save once a
 * session has been idle for SANDBOX_CHECKPOINT_IDLE_S after a cell that changed it, and before
 * its kernel is reaped or its worker drains; a restore when a session's next cell needs a
 * new kernel. The save runs inside the sandbox (a forked copy of the kernel) and its bytes
 * are read between cells, so it never delays a reply; a cell that comes first wins, and the
 * save is tried again after the next idle spell.
 */
export class CheckpointKeeper {
  private readonly options: CheckpointKeeperOptions;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly saving = new Map<string, Promise<void>>();
  /** Sessions whose state is over the limit: told once (at their next cell), then quiet. */
  private readonly overLimit = new Map<string, 'untold' | 'told'>();
  /** Sessions whose checkpoint was forgotten: not saved again until their next cell. */
  private readonly forgotten = new Set<string>();
  private closed = false;

  constructor(options: CheckpointKeeperOptions) {
    this.options = options;
  }

  get enabled(): boolean {
    return this.options.settings.maxBytes > 0;
  }

  /** A cell ran in the session: save once it has been idle for a while. */
  afterCell(sessionId: string): void {
    if (!this.enabled || this.closed) return;
    this.forgotten.delete(sessionId);
    clearTimeout(this.timers.get(sessionId));
    const timer = setTimeout(() => {
      this.timers.delete(sessionId);
      void this.save(sessionId);
    }, this.options.settings.idleMs);
    timer.unref();
    this.timers.set(sessionId, timer);
  }

  /**
   * Saves the session's state now if a cell changed it since the last checkpoint; never
   * throws. A save already running for the session is joined, not doubled.
   */
  save(sessionId: string): Promise<void> {
    const running = this.saving.get(sessionId);
    if (running !== undefined) return running;
    const saving = this.saveOnce(sessionId).finally(() => this.saving.delete(sessionId));
    this.saving.set(sessionId, saving);
    return saving;
  }

  /** Before a kernel goes (reaped, worker draining): a save, bounded in time. */
  async beforeRetire(sessionId: string): Promise<void> {
    clearTimeout(this.timers.get(sessionId));
    this.timers.delete(sessionId);
    if (!this.enabled) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.options.logger.warn(
          { session: sessionId },
          'checkpoint before retiring took too long',
        );
        resolve();
      }, SAVE_BEFORE_RETIRE_MS);
    });
    await Promise.race([this.save(sessionId), late]);
    clearTimeout(timer);
  }

  /** `forget` and `reset`: the checkpoint is dropped and not saved again until a new cell. */
  async forget(sessionId: string): Promise<boolean> {
    clearTimeout(this.timers.get(sessionId));
    this.timers.delete(sessionId);
    await this.saving.get(sessionId);
    this.forgotten.add(sessionId);
    this.overLimit.delete(sessionId);
    return await this.options.store.drop(sessionId);
  }

  /** The once-per-session notice that the state was too large to save, if it is due. */
  takeNotice(sessionId: string): string | undefined {
    if (this.overLimit.get(sessionId) !== 'untold') return undefined;
    this.overLimit.set(sessionId, 'told');
    return `This thread's variables are larger than the checkpoint limit (${formatBytes(this.options.settings.maxBytes)}, SANDBOX_CHECKPOINT_MB), so they are not saved: if the kernel is restarted or reaped, they are gone. Files in /mnt/data are kept either way.`;
  }

  /** The session's checkpoint, if checkpoints are on and it has one. */
  async find(sessionId: string): Promise<LoadedCheckpoint | undefined> {
    return this.enabled ? await this.options.store.load(sessionId) : undefined;
  }

  /**
   * Loads `checkpoint` into `sandbox`, whose next cell needs a new kernel (only ever the
   * sandbox of the session that saved it: the caller found it by that session's id).
   * Returns the notice for the thread and the model.
   */
  async restore(
    sessionId: string,
    sandbox: Sandbox,
    checkpoint: LoadedCheckpoint,
  ): Promise<string> {
    const report = await sandbox.restore(checkpoint.content);
    this.options.logger.info(
      { session: sessionId, restored: report.restored.length, failed: report.notRestored.length },
      'checkpoint restored',
    );
    return restoredNotice(checkpoint.meta, report);
  }

  /** Stops the idle timers; saves already running finish on their own. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private async saveOnce(sessionId: string): Promise<void> {
    const sandbox = this.options.sandboxOf(sessionId);
    if (this.forgotten.has(sessionId)) return;
    if (sandbox === undefined || !sandbox.hasLiveKernel || !sandbox.changedSinceCheckpoint) return;
    if (sandbox.busy) {
      this.afterCell(sessionId);
      return;
    }
    const log = this.options.logger.child({ session: sessionId });
    const startedAtMs = (this.options.now ?? Date.now)();
    try {
      const outcome = await sandbox.checkpoint(this.options.settings.maxBytes);
      switch (outcome.kind) {
        case 'saved':
          await this.options.store.save(sessionId, outcome.content, {
            savedAtMs: startedAtMs,
            sizeBytes: outcome.content.length,
            names: [...outcome.manifest.names],
            modules: { ...outcome.manifest.modules },
            notSaved: outcome.manifest.notSaved.map((item) => ({ ...item })),
          });
          this.overLimit.delete(sessionId);
          log.debug({ bytes: outcome.content.length }, 'checkpoint saved');
          return;
        case 'too_large':
          if (!this.overLimit.has(sessionId)) this.overLimit.set(sessionId, 'untold');
          log.info({ limitBytes: outcome.limitBytes }, 'checkpoint over the limit: not saved');
          return;
        case 'dropped':
          this.afterCell(sessionId);
          return;
        case 'failed':
          log.warn({ reason: outcome.reason }, 'checkpoint failed');
          return;
        case 'no_kernel':
          return;
      }
    } catch (error) {
      log.warn({ err: error }, 'checkpoint failed');
    }
  }
}
