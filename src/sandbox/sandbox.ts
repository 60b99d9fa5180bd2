import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging/logger.ts';
import { AsyncQueue } from '../util/async-queue.ts';
import type { CellEvent, CellStatus } from './cell-events.ts';
import { formatBytes, isSafeRelativePath, type UploadFile } from './file-transfer.ts';
import type { ExitInfo, KernelContainer } from './kernel-container.ts';
import type { DoneFrame } from './protocol.ts';

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

const RESTART_NOTICE =
  'The Python kernel was restarted: variables from earlier cells and files in /mnt/data are gone.';

/**
 * A session's kernel: runs cells one at a time in order, enforces the cell time limit and
 * output caps, collects produced files, and replaces the container when it dies, telling the
 * user that state was lost.
 */
export class Sandbox {
  private kernel: KernelContainer | undefined;
  /** The previous kernel died; the next cell runs in a fresh one and must say so. */
  private stateLost = false;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly graceMs: number;
  lastUsedAt = Date.now();
  cellsRun = 0;

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

  /** A fresh kernel with an empty /mnt/data. */
  reset(): Promise<void> {
    return this.serially(async () => {
      const old = this.kernel;
      this.kernel = undefined;
      this.stateLost = false;
      this.cellsRun = 0;
      await old?.destroy();
    });
  }

  async destroy(): Promise<void> {
    const old = this.kernel;
    this.kernel = undefined;
    await Promise.all([old?.destroy(), ...this.retiring]);
  }

  /** Dead kernels being removed in the background; destroy() waits for them. */
  private readonly retiring = new Set<Promise<void>>();

  /** Whether a cell is running or queued. */
  get busy(): boolean {
    return this.pending > 0;
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

  private pending = 0;

  private serially<T>(task: () => Promise<T>): Promise<T> {
    this.pending += 1;
    const run = this.chain.then(task, task);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run.finally(() => {
      this.pending -= 1;
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
    this.kernel = await this.options.acquire();
    return this.kernel;
  }

  private async runCell(
    code: string,
    options: ExecuteOptions,
    queue: AsyncQueue<CellEvent>,
  ): Promise<void> {
    const startedAt = performance.now();
    const kernel = await this.liveKernel();
    const freshAfterLoss = this.stateLost;
    this.stateLost = false;
    if (freshAfterLoss) queue.push({ type: 'notice', text: RESTART_NOTICE });
    // Stopped while the kernel was being acquired (or before the job started): the abort
    // listener below would never fire, so answer now instead of running the cell.
    if (options.signal?.aborted === true) {
      queue.push({ type: 'notice', text: 'Stopped before the cell started; nothing ran.' });
      queue.push({
        type: 'done',
        status: 'interrupted',
        durationMs: Math.round(performance.now() - startedAt),
        kernelRestarted: freshAfterLoss,
        executionCount: undefined,
      });
      queue.end();
      return;
    }

    const { limits } = this.options;
    const timeoutMs = options.timeoutMs ?? limits.cellTimeoutMs;
    const id = `cell-${randomUUID()}`;
    // The runner enforces the output cap; this second, looser cap guards against a runner
    // that user code has tampered with.
    const localCap = limits.outputLimitBytes * 2;
    let outputChars = 0;
    let droppedChars = 0;
    let stopReason: 'timeout' | 'interrupted' | undefined;
    let killedByUs = false;
    let graceTimer: NodeJS.Timeout | undefined;

    await new Promise<void>((resolve) => {
      let finished = false;
      const cleanup = () => {
        clearTimeout(deadline);
        clearTimeout(graceTimer);
        options.signal?.removeEventListener('abort', onAbort);
        unsubscribe();
        stopExit();
      };
      const finish = (
        status: CellStatus,
        executionCount: number | undefined,
        restarted: boolean,
      ) => {
        if (finished) return;
        finished = true;
        cleanup();
        this.cellsRun += 1;
        queue.push({
          type: 'done',
          status,
          durationMs: Math.round(performance.now() - startedAt),
          kernelRestarted: restarted || freshAfterLoss,
          executionCount,
        });
        queue.end();
        resolve();
      };

      const stop = (reason: 'timeout' | 'interrupted') => {
        if (stopReason !== undefined || finished) return;
        stopReason = reason;
        void kernel.interrupt();
        graceTimer = setTimeout(() => {
          killedByUs = true;
          void kernel.kill();
        }, this.graceMs);
      };
      const onAbort = () => stop('interrupted');
      const deadline = setTimeout(() => stop('timeout'), timeoutMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });

      const unsubscribe = kernel.subscribe(id, (frame) => {
        if (finished) return;
        switch (frame.type) {
          case 'stream':
            if (outputChars + frame.text.length > localCap) {
              droppedChars += frame.text.length;
              return;
            }
            outputChars += frame.text.length;
            queue.push({ type: frame.name, text: frame.text });
            return;
          case 'display':
            queue.push({ type: 'display', kind: frame.kind, data: frame.data });
            return;
          case 'error':
            queue.push({
              type: 'error',
              ename: frame.ename,
              evalue: frame.evalue,
              traceback: frame.traceback,
            });
            return;
          case 'done':
            clearTimeout(deadline);
            clearTimeout(graceTimer);
            void this.afterDone(kernel, frame, droppedChars, queue).then(() => {
              const status: CellStatus =
                frame.status === 'interrupted' ? (stopReason ?? 'interrupted') : frame.status;
              if (status === 'timeout') {
                queue.push({
                  type: 'notice',
                  text: `The cell was stopped at the ${formatSeconds(timeoutMs)} time limit; variables from earlier cells are kept.`,
                });
              }
              finish(status, frame.executionCount, false);
            });
            return;
          default:
            return;
        }
      });

      const stopExit = kernel.onExit((info: ExitInfo) => {
        this.stateLost = true;
        const status: CellStatus = killedByUs
          ? (stopReason ?? 'killed')
          : info.oomKilled
            ? 'oom'
            : 'killed';
        queue.push({ type: 'notice', text: exitNotice(status, timeoutMs) });
        finish(status, undefined, true);
      });

      try {
        kernel.send({ type: 'execute', id, code, outputLimitBytes: limits.outputLimitBytes });
      } catch {
        // The container died between liveKernel() and now; onExit reports it.
      }
    });
  }

  /** Truncation notice and file collection, after the runner said the cell is done. */
  private async afterDone(
    kernel: KernelContainer,
    frame: DoneFrame,
    droppedChars: number,
    queue: AsyncQueue<CellEvent>,
  ): Promise<void> {
    const { limits } = this.options;
    const dropped = frame.truncatedBytes + droppedChars;
    if (dropped > 0) {
      queue.push({
        type: 'notice',
        text: `Output truncated: ${formatBytes(dropped)} more was not shown (limit ${formatBytes(limits.outputLimitBytes)} per cell).`,
      });
    }
    const candidates = frame.files
      .filter((f) => isSafeRelativePath(f.path))
      .sort((a, b) => a.path.localeCompare(b.path));
    const taken = candidates.slice(0, limits.maxFiles);
    if (candidates.length > taken.length) {
      queue.push({
        type: 'notice',
        text: `${candidates.length - taken.length} more files were not sent (limit ${limits.maxFiles} per cell); they are still in /mnt/data.`,
      });
    }
    for (const file of taken) {
      if (file.size > limits.maxFileBytes) {
        queue.push({
          type: 'notice',
          text: `${file.path} was not sent: it is ${formatBytes(file.size)}, over the ${formatBytes(limits.maxFileBytes)} limit.`,
        });
        continue;
      }
      try {
        const fetched = await kernel.getFile(file.path, limits.maxFileBytes);
        if (fetched.kind === 'file') {
          queue.push({ type: 'file', path: file.path, content: fetched.content });
        } else {
          queue.push({ type: 'notice', text: `${file.path} was not sent: ${fetched.reason}.` });
        }
      } catch (error) {
        this.options.logger.warn({ err: error, path: file.path }, 'could not copy a file out');
        queue.push({
          type: 'notice',
          text: `${file.path} could not be copied out of the sandbox.`,
        });
      }
    }
  }
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return Number.isInteger(seconds) ? `${seconds} s` : `${seconds.toFixed(1)} s`;
}

function exitNotice(status: CellStatus, timeoutMs: number): string {
  switch (status) {
    case 'timeout':
      return `The cell did not stop at the ${formatSeconds(timeoutMs)} time limit, so its kernel was killed. ${RESTART_NOTICE}`;
    case 'interrupted':
      return `The cell did not stop when asked, so its kernel was killed. ${RESTART_NOTICE}`;
    case 'oom':
      return `The cell ran out of memory and its kernel was killed. ${RESTART_NOTICE}`;
    default:
      return `The Python kernel exited unexpectedly. ${RESTART_NOTICE}`;
  }
}
