import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CellEvent } from '../../src/core/cell-events.ts';
import { runCellInKernel, type CellEnding, type CellKernel } from '../../src/sandbox/cell-run.ts';
import type { FetchedFile } from '../../src/sandbox/file-transfer.ts';
import type { ExitInfo } from '../../src/sandbox/kernel-container.ts';
import type { RunnerFrame, RunnerRequest } from '../../src/sandbox/protocol.ts';

/** A kernel container at the edge we cannot reach in a unit test: Docker. */
class FakeKernel implements CellKernel {
  readonly sent: RunnerRequest[] = [];
  interrupts = 0;
  kills = 0;
  maxFrameChars = 0;
  /** What getFile answers; `undefined` keeps it waiting. */
  files = new Map<string, Promise<FetchedFile>>();
  private listener: ((frame: RunnerFrame) => void) | undefined;
  private exitListeners: ((info: ExitInfo) => void)[] = [];

  subscribe(_id: string, listener: (frame: RunnerFrame) => void): () => void {
    this.listener = listener;
    return () => (this.listener = undefined);
  }
  onExit(listener: (info: ExitInfo) => void): () => void {
    this.exitListeners.push(listener);
    return () => (this.exitListeners = this.exitListeners.filter((l) => l !== listener));
  }
  send(request: RunnerRequest): void {
    this.sent.push(request);
  }
  interrupt(): Promise<void> {
    this.interrupts += 1;
    return Promise.resolve();
  }
  kill(): Promise<void> {
    this.kills += 1;
    this.exit({ oomKilled: false, exitCode: 137, reason: 'destroyed' });
    return Promise.resolve();
  }
  limitFrames(maxChars: number): void {
    this.maxFrameChars = maxChars;
  }
  getFile(path: string): Promise<FetchedFile> {
    return (
      this.files.get(path) ?? Promise.resolve({ kind: 'skipped', reason: 'it no longer exists' })
    );
  }

  /** The runner writes a frame for the running cell. */
  frame(frame: Record<string, unknown>): void {
    const id = this.sent[0]?.id ?? '';
    this.listener?.({ id, ...frame } as RunnerFrame);
  }
  done(status: 'ok' | 'error' | 'interrupted', extra: Record<string, unknown> = {}): void {
    this.frame({
      type: 'done',
      status,
      executionCount: 1,
      durationMs: 1,
      files: [],
      truncatedBytes: 0,
      ...extra,
    });
  }
  exit(info: ExitInfo): void {
    for (const listener of [...this.exitListeners]) listener(info);
  }
}

const limits = { cellTimeoutMs: 1000, outputLimitBytes: 10, maxFileBytes: 100, maxFiles: 2 };

function start(kernel: FakeKernel, signal?: AbortSignal) {
  const events: CellEvent[] = [];
  let ending: CellEnding | undefined;
  void runCellInKernel({
    kernel,
    code: 'x = 1',
    limits,
    timeoutMs: 1000,
    graceMs: 2000,
    signal,
    logger: pino({ level: 'silent' }),
    emit: (event) => events.push(event),
  }).then((value) => (ending = value));
  const notices = () => events.flatMap((e) => (e.type === 'notice' ? [e.text] : []));
  return { events, notices, ending: () => ending };
}

describe('a cell run', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the code, passes its output on and ends with the runner’s status', async () => {
    const kernel = new FakeKernel();
    const run = start(kernel);
    expect(kernel.sent).toMatchObject([{ type: 'execute', code: 'x = 1', outputLimitBytes: 10 }]);
    kernel.frame({ type: 'stream', name: 'stdout', text: 'hi\n' });
    kernel.done('ok');
    await vi.runAllTimersAsync();
    expect(run.events).toEqual([{ type: 'stdout', text: 'hi\n' }]);
    expect(run.ending()).toEqual({ status: 'ok', executionCount: 1, kernelLost: false });
  });

  it('interrupts at the time limit and keeps the kernel when the cell stops', async () => {
    const kernel = new FakeKernel();
    const run = start(kernel);
    await vi.advanceTimersByTimeAsync(1000);
    expect(kernel.interrupts).toBe(1);
    kernel.done('interrupted');
    await vi.advanceTimersByTimeAsync(5000);
    expect(kernel.kills).toBe(0);
    expect(run.ending()).toEqual({ status: 'timeout', executionCount: 1, kernelLost: false });
    expect(run.notices()).toEqual([
      'The cell was stopped at the 1 s time limit; variables from earlier cells are kept.',
    ]);
  });

  it('kills the kernel after the grace when the cell ignores SIGINT, and says state was lost', async () => {
    const kernel = new FakeKernel();
    const run = start(kernel);
    await vi.advanceTimersByTimeAsync(1000);
    expect(run.ending()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(2000);
    expect(kernel.kills).toBe(1);
    expect(run.ending()).toEqual({
      status: 'timeout',
      executionCount: undefined,
      kernelLost: true,
    });
    expect(run.notices()).toEqual([
      expect.stringMatching(
        /did not stop at the 1 s time limit, so its kernel was killed\. The Python kernel was restarted/,
      ),
    ]);
  });

  it('stops on abort as interrupted, and a late time limit changes nothing', async () => {
    const kernel = new FakeKernel();
    const controller = new AbortController();
    const run = start(kernel, controller.signal);
    controller.abort();
    expect(kernel.interrupts).toBe(1);
    await vi.advanceTimersByTimeAsync(1500);
    expect(kernel.interrupts).toBe(1);
    kernel.done('interrupted');
    await vi.runAllTimersAsync();
    expect(run.ending()).toEqual({ status: 'interrupted', executionCount: 1, kernelLost: false });
    expect(kernel.kills).toBe(0);
  });

  it('ignores a done that arrives while the kernel is being killed: the exit tells the truth', async () => {
    const kernel = new FakeKernel();
    kernel.kill = () => {
      kernel.kills += 1;
      return Promise.resolve(); // the exit comes later
    };
    const run = start(kernel);
    await vi.advanceTimersByTimeAsync(3000);
    expect(kernel.kills).toBe(1);
    kernel.done('interrupted');
    await vi.runAllTimersAsync();
    expect(run.ending()).toBeUndefined();
    kernel.exit({ oomKilled: false, exitCode: 137, reason: 'destroyed' });
    await vi.runAllTimersAsync();
    expect(run.ending()).toMatchObject({ status: 'timeout', kernelLost: true });
  });

  it('reports a kernel that ran out of memory', async () => {
    const kernel = new FakeKernel();
    const run = start(kernel);
    kernel.exit({ oomKilled: true, exitCode: 137, reason: 'exited' });
    await vi.runAllTimersAsync();
    expect(run.ending()).toEqual({ status: 'oom', executionCount: undefined, kernelLost: true });
    expect(run.notices()[0]).toMatch(/ran out of memory/);
  });

  it('caps output at the limit whatever the runner sends, and says how much was dropped', async () => {
    const kernel = new FakeKernel();
    const run = start(kernel);
    kernel.frame({ type: 'stream', name: 'stdout', text: '0123' });
    kernel.frame({ type: 'stream', name: 'stdout', text: '456789' });
    kernel.frame({ type: 'stream', name: 'stdout', text: 'dropped' });
    kernel.frame({ type: 'display', kind: 'display_data', data: { 'text/html': '<b>x</b>' } });
    kernel.done('ok', { truncatedBytes: 3 });
    await vi.runAllTimersAsync();
    const shown = run.events.flatMap((e) => (e.type === 'stdout' ? [e.text] : []));
    expect(shown.join('')).toBe('0123456789');
    expect(run.events.some((e) => e.type === 'display')).toBe(false);
    // 3 the runner dropped, 7 of the third write, 17 of the display (its mime type counts).
    expect(run.notices()).toEqual([
      expect.stringMatching(/^Output truncated: 27 B more was not shown/),
    ]);
  });

  it('kills a kernel whose runner keeps sending past the budget, and says why', async () => {
    const kernel = new FakeKernel();
    const run = start(kernel);
    for (let i = 0; i < 2000; i += 1) kernel.frame({ type: 'stream', name: 'stdout', text: '' });
    await vi.runAllTimersAsync();
    expect(kernel.kills).toBe(1);
    expect(run.ending()).toEqual({ status: 'killed', executionCount: undefined, kernelLost: true });
    expect(run.notices()).toEqual([
      expect.stringMatching(/^The cell produced more output than allowed .* kernel was restarted/),
    ]);
  });

  it('copies files out after done; a Stop while it does so interrupts nothing', async () => {
    const kernel = new FakeKernel();
    let deliver: (file: FetchedFile) => void = () => undefined;
    kernel.files.set('a.csv', new Promise((resolve) => (deliver = resolve)));
    const controller = new AbortController();
    const run = start(kernel, controller.signal);
    kernel.done('ok', { files: [{ path: 'a.csv', size: 3 }] });
    controller.abort();
    await vi.advanceTimersByTimeAsync(5000);
    expect(kernel.interrupts + kernel.kills).toBe(0);
    deliver({ kind: 'file', content: Buffer.from('a,b') });
    await vi.runAllTimersAsync();
    expect(run.events).toEqual([{ type: 'file', path: 'a.csv', content: Buffer.from('a,b') }]);
    expect(run.ending()).toMatchObject({ status: 'ok', kernelLost: false });
  });

  it('ends at once when the container is already gone', async () => {
    const kernel = new FakeKernel();
    kernel.onExit = (listener) => {
      listener({ oomKilled: false, exitCode: 1, reason: 'exited' });
      return () => undefined;
    };
    const run = start(kernel);
    expect(kernel.sent).toEqual([]);
    await vi.runAllTimersAsync();
    expect(vi.getTimerCount()).toBe(0);
    expect(run.ending()).toMatchObject({ status: 'killed', kernelLost: true });
  });
});
