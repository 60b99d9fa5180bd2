import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging/logger.ts';
import type { CellEvent, CellStatus } from '../core/cell-events.ts';
import { exitNotice, timeoutNotice } from './cell-notices.ts';
import { collectCellOutputs } from './cell-outputs.ts';
import type { ExitInfo, KernelContainer } from './kernel-container.ts';
import type { DoneFrame, RunnerFrame } from './protocol.ts';
import type { SandboxLimits } from './sandbox.ts';

/** What a cell needs of its kernel's container. */
export type CellKernel = Pick<
  KernelContainer,
  'subscribe' | 'onExit' | 'send' | 'interrupt' | 'kill' | 'getFile'
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
 * - killing: the cell ignored SIGINT, its container is being killed; only the exit counts
 *   now (a late `done` would claim a kernel that is already gone).
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
  | { readonly name: 'killing'; readonly reason: StopReason }
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
  /** The runner enforces the output cap; this second, looser cap (twice it) guards against
   *  a runner that user code has tampered with. */
  private outputChars = 0;
  private droppedChars = 0;

  constructor(options: CellRunOptions) {
    this.options = options;
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
    try {
      kernel.send({
        type: 'execute',
        id: this.id,
        code,
        outputLimitBytes: limits.outputLimitBytes,
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
    if (this.phase.name === 'done' || this.phase.name === 'collecting') return;
    switch (frame.type) {
      case 'stream':
        if (this.outputChars + frame.text.length > this.options.limits.outputLimitBytes * 2) {
          this.droppedChars += frame.text.length;
          return;
        }
        this.outputChars += frame.text.length;
        this.emit({ type: frame.name, text: frame.text });
        return;
      case 'display':
        this.emit({ type: 'display', kind: frame.kind, data: frame.data });
        return;
      case 'error':
        this.emit({
          type: 'error',
          ename: frame.ename,
          evalue: frame.evalue,
          traceback: frame.traceback,
        });
        return;
      case 'done':
        this.onRunnerDone(frame);
        return;
      default:
        return;
    }
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
      await collectCellOutputs(frame, this.droppedChars, {
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
    const status: CellStatus =
      phase.name === 'killing' ? phase.reason : info.oomKilled ? 'oom' : 'killed';
    this.emit({ type: 'notice', text: exitNotice(status, this.options.timeoutMs) });
    this.finish({ status, executionCount: undefined, kernelLost: true });
  }

  private finish(ending: CellEnding): void {
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
