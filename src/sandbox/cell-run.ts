import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging/logger.ts';
import type { CellEvent, CellStatus } from '../core/cell-events.ts';
import { exitNotice, timeoutNotice } from './cell-notices.ts';
import { collectCellOutputs } from './cell-outputs.ts';
import type { ExitInfo, KernelContainer } from './kernel-container.ts';
import {
  floodNotice,
  MAX_DISPLAYS_PER_CELL,
  MAX_IMAGES_PER_CELL,
  maxFrameChars,
  OutputBudget,
} from './output-budget.ts';
import type { DoneFrame, RunnerFrame } from './protocol.ts';
import type { SandboxLimits } from './sandbox.ts';
import { StreamCoalescer } from './stream-coalescer.ts';

/** What a cell needs of its kernel's container. */
export type CellKernel = Pick<
  KernelContainer,
  'subscribe' | 'onExit' | 'send' | 'interrupt' | 'kill' | 'getFile' | 'limitFrames'
>;

export interface CellRunOptions {
  /** A live kernel; nothing else runs in it while the cell does. */
  readonly kernel: CellKernel;
  readonly code: string;
  readonly limits: SandboxLimits;
  /** The cell's time limit: reaching it stops the cell like a Stop does. */
  readonly timeoutMs: number;
  /** How long a cell gets to stop after SIGINT before its container is killed. */
  readonly graceMs: number;
  /** Aborting stops the cell (SIGINT, then the kill after the grace). */
  readonly signal: AbortSignal | undefined;
  readonly logger: Logger;
  /** Receives the cell's events as they happen, all but `done` (the caller builds that). */
  readonly emit: (event: CellEvent) => void;
}

/** How a cell ended. */
export interface CellEnding {
  readonly status: CellStatus;
  readonly executionCount: number | undefined;
  /** The kernel's container died (killed by us, out of memory, crashed): its state is gone. */
  readonly kernelLost: boolean;
}

type StopReason = 'timeout' | 'interrupted';

/**
 * Where a cell is, and the timer that belongs to that phase (cleared on leaving it):
 * - running: the runner executes the code, until its `done` frame, the time limit or a Stop.
 * - interrupting: SIGINT was sent; a `done` now means the kernel and its state survived,
 *   and the grace timer kills the container if none comes.
 * - killing: the cell ignored SIGINT, or flooded the worker with output far past its budget;
 *   its container is being killed and only the exit counts now (a late `done` would claim a
 *   kernel that is already gone).
 * - collecting: the runner said done, the produced files are being copied out; the code has
 *   finished, so a Stop or the time limit changes nothing.
 * - done: the ending is known.
 * The container exiting ends the cell from any phase but done, with its state lost.
 */
type Phase =
  | { readonly name: 'running'; readonly deadline: NodeJS.Timeout }
  | {
      readonly name: 'interrupting';
      readonly reason: StopReason;
      readonly graceTimer: NodeJS.Timeout;
    }
  | { readonly name: 'killing'; readonly reason: StopReason | 'flood' }
  | { readonly name: 'collecting' }
  | { readonly name: 'done' };

/** Runs one cell in `options.kernel` and resolves with how it ended. Never rejects. */
export function runCellInKernel(options: CellRunOptions): Promise<CellEnding> {
  return new CellRun(options).start();
}

class CellRun {
  private readonly options: CellRunOptions;
  private readonly id = `cell-${randomUUID()}`;
  /** 'done' until start(): a run that never started has nothing left to happen. */
  private phase: Phase = { name: 'done' };
  private resolveEnding: (ending: CellEnding) => void = () => undefined;
  private readonly detach: (() => void)[] = [];
  /** The runner applies the same bounds, but user code shares its process: these count. */
  private readonly budget: OutputBudget;
  private readonly streams: StreamCoalescer;

  constructor(options: CellRunOptions) {
    this.options = options;
    this.budget = new OutputBudget(options.limits.outputLimitBytes);
    this.streams = new StreamCoalescer((event) => this.emit(event));
  }

  start(): Promise<CellEnding> {
    const { kernel, signal, code, limits } = this.options;
    const ending = new Promise<CellEnding>((resolve) => (this.resolveEnding = resolve));
    this.phase = {
      name: 'running',
      deadline: setTimeout(() => this.stop('timeout'), this.options.timeoutMs),
    };
    const onAbort = () => this.stop('interrupted');
    signal?.addEventListener('abort', onAbort, { once: true });
    this.detach.push(() => signal?.removeEventListener('abort', onAbort));
    this.detach.push(kernel.subscribe(this.id, (frame) => this.onFrame(frame)));
    // Last: it calls back at once when the container has already exited.
    const stopExit = kernel.onExit((info) => this.onExit(info));
    if (this.ended) return ending;
    this.detach.push(stopExit);
    kernel.limitFrames(maxFrameChars(limits.outputLimitBytes));
    try {
      kernel.send({
        type: 'execute',
        id: this.id,
        code,
        outputLimitBytes: limits.outputLimitBytes,
        maxDisplays: MAX_DISPLAYS_PER_CELL,
        maxImages: MAX_IMAGES_PER_CELL,
      });
    } catch {
      // The container died after it was handed to us; its exit ends the cell.
    }
    return ending;
  }

  /** running → interrupting: SIGINT, and the grace timer for the kill. */
  private stop(reason: StopReason): void {
    if (this.phase.name !== 'running') return;
    this.enter({
      name: 'interrupting',
      reason,
      graceTimer: setTimeout(() => this.kill(), this.options.graceMs),
    });
    void this.options.kernel.interrupt();
  }

  /** interrupting → killing: the cell ignored SIGINT for the whole grace. */
  private kill(): void {
    if (this.phase.name !== 'interrupting') return;
    this.enter({ name: 'killing', reason: this.phase.reason });
    void this.options.kernel.kill();
  }

  private onFrame(frame: RunnerFrame): void {
    if (this.ended) return;
    this.take(frame);
    if (this.budget.flooded) this.flood();
  }

  /** Passes a frame on within the cell's output budget. */
  private take(frame: RunnerFrame): void {
    const { budget, streams } = this;
    // Once the runner said done (or the kernel is being killed) the cell cannot speak.
    if (this.phase.name === 'collecting' || this.phase.name === 'killing') {
      budget.refuseFrame();
      return;
    }
    if (frame.type === 'stream') {
      const text = budget.stream(frame.text);
      if (text !== undefined) streams.push(frame.name, text);
      return;
    }
    streams.flush(); // what was printed before this frame goes first
    if (frame.type === 'display') {
      const data = budget.display(frame.data);
      if (data !== undefined) this.emit({ type: 'display', kind: frame.kind, data });
    } else if (frame.type === 'error') {
      const error = budget.error({ ...frame, type: 'error' });
      if (error !== undefined) this.emit(error);
    } else if (frame.type === 'done') {
      this.onRunnerDone(frame);
    } else {
      budget.refuseFrame();
    }
  }

  /** any phase but done and killing → killing: the sandbox sent far more than allowed. */
  private flood(): void {
    if (this.phase.name === 'done' || this.phase.name === 'killing') return;
    this.options.logger.warn('a cell flooded the worker with output; killing its kernel');
    this.streams.flush();
    this.enter({ name: 'killing', reason: 'flood' });
    void this.options.kernel.kill('flood');
  }

  /** running | interrupting → collecting → done, with the kernel and its state intact. */
  private onRunnerDone(frame: DoneFrame): void {
    const phase = this.phase;
    if (phase.name !== 'running' && phase.name !== 'interrupting') return;
    const stopReason = phase.name === 'interrupting' ? phase.reason : undefined;
    this.enter({ name: 'collecting' });
    void this.collect(frame).then(() => {
      if (this.phase.name !== 'collecting') return; // the container exited meanwhile
      // The runner says `interrupted` for any SIGINT; we know whether it was the time limit.
      const status: CellStatus =
        frame.status === 'interrupted' ? (stopReason ?? 'interrupted') : frame.status;
      if (status === 'timeout') {
        this.emit({ type: 'notice', text: timeoutNotice(this.options.timeoutMs) });
      }
      this.finish({ status, executionCount: frame.executionCount, kernelLost: false });
    });
  }

  private async collect(frame: DoneFrame): Promise<void> {
    const { kernel, limits, logger } = this.options;
    try {
      await collectCellOutputs(frame, this.budget, {
        kernel,
        limits,
        logger,
        emit: (event) => this.emit(event),
      });
    } catch (error) {
      logger.warn({ err: error }, 'could not collect the outputs of a cell');
    }
  }

  /** any phase but done → done, the kernel's state lost. */
  private onExit(info: ExitInfo): void {
    const phase = this.phase;
    if (phase.name === 'done') return;
    this.streams.flush();
    const flooded =
      info.reason === 'flood' || (phase.name === 'killing' && phase.reason === 'flood');
    if (flooded) {
      this.emit({ type: 'notice', text: floodNotice(this.options.limits.outputLimitBytes) });
      this.finish({ status: 'killed', executionCount: undefined, kernelLost: true });
      return;
    }
    const status: CellStatus =
      phase.name === 'killing' && phase.reason !== 'flood'
        ? phase.reason
        : info.oomKilled
          ? 'oom'
          : 'killed';
    this.emit({ type: 'notice', text: exitNotice(status, this.options.timeoutMs) });
    this.finish({ status, executionCount: undefined, kernelLost: true });
  }

  private finish(ending: CellEnding): void {
    this.streams.dispose();
    this.enter({ name: 'done' });
    for (const detach of this.detach.splice(0)) detach();
    this.resolveEnding(ending);
  }

  /** Moves to `next`, clearing the timer of the phase it leaves. */
  private enter(next: Phase): void {
    const leaving = this.phase;
    if (leaving.name === 'running') clearTimeout(leaving.deadline);
    if (leaving.name === 'interrupting') clearTimeout(leaving.graceTimer);
    this.phase = next;
  }

  /** A method, not a field check, because callbacks move the phase behind the compiler's back. */
  private get ended(): boolean {
    return this.phase.name === 'done';
  }

  /** Nothing reaches the caller once the ending is known. */
  private emit(event: CellEvent): void {
    if (!this.ended) this.options.emit(event);
  }
}
