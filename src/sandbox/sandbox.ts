import { SandbotError } from '../core/errors.ts';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging/logger.ts';
import { AsyncQueue } from '../core/async-queue.ts';
import { Serializer } from '../core/keyed-serializer.ts';
import type { CellEvent, CellUsage } from '../core/cell-events.ts';
import { RESTART_NOTICE, STOPPED_BEFORE_START_NOTICE } from './cell-notices.ts';
import { runCellInKernel, type CellEnding } from './cell-run.ts';
import type { UploadFile } from './file-transfer.ts';
import type { ContainerCounters } from './cgroup-usage.ts';
import type { KernelContainer } from './kernel-container.ts';
import type { CheckpointOutcome, RestoreReport } from './checkpoint-types.ts';
import {
  dropSavedCheckpoint,
  readCheckpoint,
  readPiece,
  restoreCheckpoint,
  startCheckpoint,
} from './checkpoint-exchange.ts';

export interface SandboxLimits {
  readonly cellTimeoutMs: number;
  readonly outputLimitBytes: number;
  readonly maxFileBytes: number;
  readonly maxFiles: number;
}

export interface SandboxOptions {
  /** Gives a ready kernel container: from the warm pool, a new one, or an existing one. */
  readonly acquire: () => Promise<KernelContainer>;
  readonly limits: SandboxLimits;
  readonly logger: Logger;
  /** How long a cell gets to stop after SIGINT before its container is killed. Default 2 s. */
  readonly interruptGraceMs?: number;
}

export interface ExecuteOptions {
  /** Overrides the configured cell time limit for this cell. */
  readonly timeoutMs?: number;
  /** Aborting interrupts the cell (SIGINT), and kills the kernel if it does not stop. */
  readonly signal?: AbortSignal;
}

export interface SandboxStatus {
  readonly kernelAlive: boolean;
  readonly memoryBytes: number | undefined;
  readonly cellsRun: number;
}

/**
 * A session's kernel: runs cells one at a time in order, enforces the cell time limit and
 * output caps, collects produced files, and replaces the container when it dies, telling the
 * user that state was lost.
 */
export class Sandbox {
  private kernel: KernelContainer | undefined;
  /** The previous kernel died; the next cell runs in a fresh one and must say so. */
  private stateLost = false;
  /** Cells, uploads and resets, one at a time in the order they came. */
  private readonly lane = new Serializer();
  private readonly graceMs: number;
  lastUsedAt = Date.now();
  cellsRun = 0;
  /** Cells started in the current kernel, and how many of them the last saved checkpoint
   *  (or the restore, or the kernel's start) reflects. */
  private kernelCells = 0;
  private savedCells = 0;

  private readonly options: SandboxOptions;

  constructor(options: SandboxOptions) {
    this.options = options;
    this.graceMs = options.interruptGraceMs ?? 2000;
  }

  /** Runs a cell; the events arrive as they happen and end with exactly one `done`. */
  execute(code: string, options: ExecuteOptions = {}): AsyncIterable<CellEvent> {
    const queue = new AsyncQueue<CellEvent>();
    void this.serially(async () => {
      try {
        await this.runCell(code, options, queue);
      } catch (error) {
        queue.fail(error);
      }
    });
    return queue;
  }

  /** Places files in /mnt/data; they are not reported as outputs of the next cell. */
  upload(files: readonly UploadFile[]): Promise<void> {
    return this.serially(async () => {
      const kernel = await this.liveKernel();
      await kernel.putFiles(files);
      await kernel.ask({ type: 'snapshot', id: `snapshot-${randomUUID()}` });
    });
  }

  /**
   * Runs `task` with the session's live kernel (acquired as a cell would acquire it), in the
   * session's lane: between cells, never beside one (installing packages, issue 18).
   */
  withKernel<T>(task: (kernel: KernelContainer) => Promise<T>): Promise<T> {
    return this.serially(async () => task(await this.liveKernel()));
  }

  /** A fresh kernel with an empty /mnt/data. */
  reset(): Promise<void> {
    return this.serially(async () => {
      const old = this.kernel;
      this.kernel = undefined;
      this.stateLost = false;
      this.cellsRun = 0;
      this.kernelCells = this.savedCells = 0;
      await old?.destroy();
    });
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    const old = this.kernel;
    this.kernel = undefined;
    // A kernel still being acquired is removed as soon as it arrives (see liveKernel), so a
    // shutdown in the middle of a container start leaves nothing behind; wait for that too.
    await Promise.all([old?.destroy(), this.acquiring?.catch(() => undefined), ...this.retiring]);
  }

  /** Set by destroy(): no kernel may be kept after it. */
  private destroyed = false;
  private acquiring: Promise<KernelContainer> | undefined;

  /** Dead kernels being removed in the background; destroy() waits for them. */
  private readonly retiring = new Set<Promise<void>>();

  get hasLiveKernel(): boolean {
    return this.kernel?.alive === true;
  }

  /** A cell ran in this kernel since the last saved checkpoint, restore, or its start. */
  get changedSinceCheckpoint(): boolean {
    return this.kernelCells !== this.savedCells;
  }

  /**
   * Saves the kernel's namespace (docs/sandbox-protocol.md, "Checkpoints"). Only the fork and
   * each 1 MiB piece of the read are lane tasks, so a cell waits at most for one of them; a
   * cell that starts while the copy is still saving drops the save (`dropped`). The bytes are
   * counted here: past `maxBytes` the outcome is `too_large`, whatever the sandbox says.
   * Lane tasks of a checkpoint do not count as use of the session (idle expiry).
   */
  async checkpoint(maxBytes: number): Promise<CheckpointOutcome> {
    const begun = await this.lane.run(async () => {
      const kernel = this.kernel;
      if (kernel?.alive !== true) return undefined;
      const cellsAtFork = this.kernelCells;
      return { kernel, cellsAtFork, save: await startCheckpoint(kernel, maxBytes) };
    });
    if (begun === undefined) return { kind: 'no_kernel' };
    const { kernel, cellsAtFork, save } = begun;
    const answer = await save.answer;
    if (answer.kind === 'too_large') return { kind: 'too_large', limitBytes: maxBytes };
    if (answer.kind === 'failed') this.dropCheckpoints(kernel);
    if (answer.kind !== 'saved') return answer;
    const read = await readCheckpoint(answer.size, maxBytes, (offset, pieceBytes) =>
      this.lane.run(async () => {
        if (this.kernel !== kernel || !kernel.alive) {
          return { kind: 'refused', reason: 'the kernel went away while its checkpoint was read' };
        }
        return await readPiece(kernel, save.id, offset, pieceBytes);
      }),
    );
    // The sandbox's copy is no longer needed (it costs the container memory on /tmp).
    this.dropCheckpoints(kernel, save.id);
    if (read.kind === 'too_large') return { kind: 'too_large', limitBytes: maxBytes };
    if (read.kind === 'failed') return read;
    if (this.kernel === kernel) this.savedCells = Math.max(this.savedCells, cellsAtFork);
    return { kind: 'saved', content: read.content, manifest: answer.manifest };
  }

  /**
   * Removes the saved file of `checkpointId` in the sandbox, or, without one, kills a save
   * still running there (one that stalled) and removes every saved file. In the background.
   */
  private dropCheckpoints(kernel: KernelContainer, checkpointId?: string): void {
    void this.lane
      .run(() => (kernel.alive ? dropSavedCheckpoint(kernel, checkpointId) : Promise.resolve()))
      .catch((error: unknown) =>
        this.options.logger.debug({ err: error }, 'could not remove a checkpoint in the sandbox'),
      );
  }

  /**
   * Loads a checkpoint into the kernel, acquiring one first when there is none (as a cell
   * would). Afterwards the next cell shows no restart notice (the caller tells the user what
   * was restored instead) and the kernel counts as unchanged since its checkpoint.
   */
  restore(content: Buffer): Promise<RestoreReport> {
    return this.serially(async () => {
      const kernel = await this.liveKernel();
      const report = await restoreCheckpoint(kernel, content);
      this.stateLost = false;
      this.savedCells = this.kernelCells;
      return report;
    });
  }

  /** Whether a cell is running or queued. */
  get busy(): boolean {
    return this.lane.pending > 0;
  }

  async status(): Promise<SandboxStatus> {
    const kernel = this.kernel;
    const alive = kernel?.alive === true;
    let memoryBytes: number | undefined;
    if (alive) {
      try {
        memoryBytes = await kernel.memoryBytes();
      } catch {
        memoryBytes = undefined;
      }
    }
    return { kernelAlive: alive, memoryBytes, cellsRun: this.cellsRun };
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    return this.lane.run(task).finally(() => {
      this.lastUsedAt = Date.now();
    });
  }

  private async liveKernel(): Promise<KernelContainer> {
    if (this.kernel?.alive === true) return this.kernel;
    if (this.kernel !== undefined) {
      this.stateLost = true;
      const removal = this.kernel.destroy().finally(() => this.retiring.delete(removal));
      this.retiring.add(removal);
      this.kernel = undefined;
    }
    // destroy() waits on this whole promise, removal of a kernel that arrived too late included.
    this.acquiring = this.options.acquire().then(async (kernel) => {
      if (!this.destroyed) return kernel;
      await kernel.destroy();
      throw new SandbotError('SANDBOX_GONE', 'the sandbox was shut down before the cell started');
    });
    const kernel = await this.acquiring.finally(() => (this.acquiring = undefined));
    this.kernel = kernel;
    this.kernelCells = this.savedCells = 0;
    return kernel;
  }

  /** Runs one cell in the live kernel (see cell-run.ts for its phases) and ends `queue`. */
  private async runCell(
    code: string,
    options: ExecuteOptions,
    queue: AsyncQueue<CellEvent>,
  ): Promise<void> {
    const startedAt = performance.now();
    const kernel = await this.liveKernel();
    this.kernelCells += 1;
    const freshAfterLoss = this.stateLost;
    this.stateLost = false;
    if (freshAfterLoss) queue.push({ type: 'notice', text: RESTART_NOTICE });
    const done = (ending: CellEnding, usage?: CellUsage): void => {
      queue.push({
        type: 'done',
        status: ending.status,
        durationMs: Math.round(performance.now() - startedAt),
        kernelRestarted: ending.kernelLost || freshAfterLoss,
        executionCount: ending.executionCount,
        ...(usage === undefined ? {} : { usage }),
      });
      queue.end();
    };
    // Stopped while the kernel was being acquired (or before the job started): the abort
    // event has already fired, so answer now instead of running the cell.
    if (options.signal?.aborted === true) {
      queue.push({ type: 'notice', text: STOPPED_BEFORE_START_NOTICE });
      done({ status: 'interrupted', executionCount: undefined, kernelLost: false });
      return;
    }
    // Read by the worker from the container's cgroup, before and after: the cell's CPU time.
    const before = await kernel.counters();
    const ending = await runCellInKernel({
      kernel,
      code,
      limits: this.options.limits,
      timeoutMs: options.timeoutMs ?? this.options.limits.cellTimeoutMs,
      graceMs: this.graceMs,
      signal: options.signal,
      logger: this.options.logger,
      emit: (event) => queue.push(event),
    });
    if (ending.kernelLost) this.stateLost = true;
    this.cellsRun += 1;
    // A container that died took its cgroup along: that cell has no figures.
    done(ending, ending.kernelLost ? undefined : cellUsage(before, await kernel.counters()));
  }
}

/** The cell's share of the container's counters. */
function cellUsage(
  before: ContainerCounters | undefined,
  after: ContainerCounters | undefined,
): CellUsage | undefined {
  if (before === undefined || after === undefined) return undefined;
  const cpuSeconds = Math.max(0, after.cpuNs - before.cpuNs) / 1e9;
  return after.memoryPeakBytes === undefined
    ? { cpuSeconds }
    : { cpuSeconds, memoryPeakBytes: after.memoryPeakBytes };
}
