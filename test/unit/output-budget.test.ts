import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StreamEvent } from '../../src/core/cell-events.ts';
import { bundleBytes, OutputBudget } from '../../src/sandbox/output-budget.ts';
import { StreamCoalescer } from '../../src/sandbox/stream-coalescer.ts';

describe("a cell's output budget", () => {
  it('cuts stream text at the limit in UTF-8 bytes, never inside a character', () => {
    const budget = new OutputBudget(5);
    expect(budget.stream('ab')).toBe('ab');
    expect(budget.stream('é€')).toBe('é'); // 2 + 3 bytes: only the é fits
    expect(budget.stream('x')).toBe('x');
    expect(budget.stream('more')).toBeUndefined();
    expect(budget.droppedBytes).toBe(3 + 4);
  });

  it('counts images as the bytes their base64 decodes to, mime types included', () => {
    expect(bundleBytes({ 'image/png': 'A'.repeat(400), 'text/plain': 'é' })).toBe(9 + 300 + 10 + 2);
  });

  it('keeps the text form of a bundle too large to show, or nothing', () => {
    const budget = new OutputBudget(60); // room for 17 + 36 bytes, not for 36 more
    const html = { 'text/plain': '<table>', 'text/html': 'h'.repeat(1000) };
    expect(budget.display(html)).toEqual({ 'text/plain': '<table>' });
    expect(budget.display({ 'text/html': 'h'.repeat(1000) })).toEqual({
      'text/plain': '<output too large to show>',
    });
    expect(budget.display({ 'text/html': 'h'.repeat(1000) })).toBeUndefined();
  });

  it('shows at most 20 images and 100 rich outputs', () => {
    const budget = new OutputBudget(1 << 20);
    const image = { 'image/png': 'AAAA', 'text/plain': 'img' };
    const shown = Array.from({ length: 30 }, () => budget.display(image));
    expect(shown.filter((b) => b?.['image/png'] !== undefined)).toHaveLength(20);
    expect(shown.slice(20)).toEqual(Array(10).fill({ 'text/plain': 'img' }));
    const more = Array.from({ length: 100 }, () => budget.display({ 'text/plain': '1' }));
    expect(more.filter((b) => b !== undefined)).toHaveLength(70);
    expect(budget.droppedOutputs).toBe(10 + 30);
  });

  it('cuts an exception to size and keeps at most three', () => {
    const budget = new OutputBudget(10);
    const error = {
      type: 'error',
      ename: 'E'.repeat(1000),
      evalue: 'v',
      traceback: ['t'],
    } as const;
    expect(budget.error(error)?.ename).toHaveLength(256);
    budget.error(error);
    budget.error(error);
    expect(budget.error(error)).toBeUndefined();
  });

  it('calls it a flood when far more arrives than the budget allows', () => {
    const budget = new OutputBudget(1024);
    budget.stream('x'.repeat(1024 + 1024 * 1024));
    expect(budget.flooded).toBe(false);
    budget.stream('x'.repeat(2048 + 1));
    expect(budget.flooded).toBe(true);
  });
});

describe('joining stream writes', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the first write at once and joins what follows within 100 ms', () => {
    const events: StreamEvent[] = [];
    const streams = new StreamCoalescer((event) => events.push(event));
    streams.push('stdout', 'a');
    streams.push('stdout', 'b');
    streams.push('stderr', 'e');
    streams.push('stdout', 'c');
    expect(events).toEqual([{ type: 'stdout', text: 'a' }]);
    vi.advanceTimersByTime(100);
    expect(events.slice(1)).toEqual([
      { type: 'stdout', text: 'bc' },
      { type: 'stderr', text: 'e' },
    ]);
  });

  it('sends at most 1000 events however a cell interleaves its writes', () => {
    const events: StreamEvent[] = [];
    const streams = new StreamCoalescer((event) => events.push(event));
    for (let i = 0; i < 100_000; i += 1) {
      streams.push(i % 2 === 0 ? 'stdout' : 'stderr', 'x');
      vi.advanceTimersByTime(10);
    }
    streams.flush();
    expect(events.length).toBeLessThanOrEqual(1002);
    expect(events.map((e) => e.text).join('')).toHaveLength(100_000);
  });
});
