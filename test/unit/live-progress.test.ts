import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveProgress, renderProgress } from '../../src/render/live-progress.ts';

describe('LiveProgress', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('shows the first update at once, then at most once per interval, ending on the latest', async () => {
    const shown: string[] = [];
    const live = new LiveProgress({
      intervalMs: 1000,
      maxChars: 2000,
      show: (text) => {
        shown.push(text);
        return Promise.resolve();
      },
    });
    live.update({ type: 'thinking' });
    await vi.advanceTimersByTimeAsync(0);
    expect(shown).toHaveLength(1);
    expect(shown[0]).toContain('Thinking');

    live.update({ type: 'running', code: 'for i in range(3): print(i)' });
    for (let i = 0; i < 20; i++) live.update({ type: 'output', text: `line ${i}\n` });
    await vi.advanceTimersByTimeAsync(500);
    expect(shown).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(600);
    expect(shown).toHaveLength(2);
    expect(shown[1]).toContain('line 19');
    expect(shown[1]).toContain('range(3)');
    await live.close();
    live.update({ type: 'answering', text: 'x' });
    await vi.advanceTimersByTimeAsync(5000);
    expect(shown).toHaveLength(2);
  });

  it('never calls show while one is in flight, and keeps going after a failure', async () => {
    let active = 0;
    let maxActive = 0;
    const errors: unknown[] = [];
    let calls = 0;
    const live = new LiveProgress({
      intervalMs: 10,
      maxChars: 500,
      show: async () => {
        calls += 1;
        active += 1;
        maxActive = Math.max(maxActive, active);
        await new Promise((resolve) => setTimeout(resolve, 100));
        active -= 1;
        if (calls === 1) throw new Error('rate limited');
      },
      onError: (error) => errors.push(error),
    });
    live.update({ type: 'thinking' });
    await vi.advanceTimersByTimeAsync(5);
    live.update({ type: 'running', code: 'x = 1' });
    await vi.advanceTimersByTimeAsync(50);
    live.update({ type: 'output', text: 'hello' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(maxActive).toBe(1);
    expect(errors).toHaveLength(1);
    expect(calls).toBeGreaterThanOrEqual(2);
    await live.close();
  });
});

describe('renderProgress', () => {
  it('keeps within the limit and shows the newest output', () => {
    const output = Array.from({ length: 500 }, (_, i) => `row ${i}`).join('\n');
    const text = renderProgress({ phase: 'running', code: 'print(df)', output }, 400);
    expect(text.length).toBeLessThanOrEqual(400);
    expect(text).toContain('row 499');
    expect(text).not.toContain('row 1\n');
  });

  it('uses a fence that output with backticks cannot close', () => {
    const text = renderProgress({ phase: 'running', code: 'x', output: '```oops```' }, 2000);
    expect(text).toContain('````\n```oops```\n````');
  });
});
