import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { answerTail } from '../../src/render/answer-tail.ts';
import { LiveProgress, nextState, renderProgress } from '../../src/render/live-progress.ts';
import type { Progress } from '../../src/core/reply.ts';

describe('answerTail', () => {
  it('keeps an answer that fits as it is', () => {
    expect(answerTail('The mean is 4.2.', 100)).toBe('The mean is 4.2.');
    expect(answerTail('exactly ten', 11)).toBe('exactly ten');
  });

  it('keeps the newest text of a longer answer, marked with an ellipsis at the start', () => {
    const tail = answerTail('abcdefghijklmnopqrstuvwxyz', 10);
    expect(tail).toBe('…rstuvwxyz');
    expect(tail).toHaveLength(10);
  });

  it('never leaves half of an emoji at the cut', () => {
    const tail = answerTail('ab😀cd', 4);
    expect(tail).toBe('…cd');
    expect(tail.isWellFormed()).toBe(true);
  });

  it('gives nothing when there is no room', () => {
    expect(answerTail('abc', 0)).toBe('');
  });

  it('closes a code block still being written', () => {
    expect(answerTail('Here:\n```python\nx = 1', 100)).toBe('Here:\n```python\nx = 1\n```');
    expect(answerTail('Here:\n```\nx = 1\n```\nDone', 100)).toBe('Here:\n```\nx = 1\n```\nDone');
  });

  it('reopens a code block the cut fell inside, keeping within the limit', () => {
    const text = `Code:\n\`\`\`\n${'x = 1\n'.repeat(50)}\`\`\`\nThat is all.`;
    const tail = answerTail(text, 60);
    expect(tail.length).toBeLessThanOrEqual(60);
    expect(tail).toMatch(/^…\n```\n/);
    expect(tail.endsWith('```\nThat is all.')).toBe(true);
  });
});

describe('the status of an answer being written', () => {
  const fold = (updates: Progress[]) =>
    updates.reduce(nextState, { phase: 'thinking', code: '', output: '' });

  it('shows the answer so far in place of the code and its output', () => {
    const state = fold([
      { type: 'thinking' },
      { type: 'running', code: 'print(6 * 7)' },
      { type: 'output', text: '42\n' },
      { type: 'answering', text: 'The answer ' },
      { type: 'answering', text: 'is 42.' },
    ]);
    const text = renderProgress(state, 2000);
    expect(text).toBe('✍️ Writing the answer…\n\nThe answer is 42.');
  });

  it('forgets text the model wrote before running a cell', () => {
    const state = fold([
      { type: 'answering', text: 'Let me compute that.' },
      { type: 'running', code: 'print(1)' },
      { type: 'answering', text: 'It is 1.' },
    ]);
    expect(renderProgress(state, 2000)).not.toContain('Let me compute');
  });

  it('fits a long answer in the status limit, showing its tail', () => {
    const answer = `${'word '.repeat(1000)}THE END`;
    const text = renderProgress(fold([{ type: 'answering', text: answer }]), 300);
    expect(text.length).toBeLessThanOrEqual(300);
    expect(text).toMatch(/^✍️ Writing the answer…\n\n…/);
    expect(text.endsWith('THE END')).toBe(true);
  });

  describe('through LiveProgress', () => {
    beforeEach(() => vi.useFakeTimers());
    afterEach(() => vi.useRealTimers());

    it('shows the growing answer at the interval and says which shows carry it', async () => {
      const shown: { text: string; answerPreview: boolean }[] = [];
      const live = new LiveProgress({
        intervalMs: 1000,
        maxChars: 2000,
        show: (text, answerPreview) => {
          shown.push({ text, answerPreview });
          return Promise.resolve();
        },
      });
      live.update({ type: 'thinking' });
      await vi.advanceTimersByTimeAsync(0);
      live.update({ type: 'answering', text: 'Hello' });
      await vi.advanceTimersByTimeAsync(1000);
      for (const word of [' there', ',', ' world']) live.update({ type: 'answering', text: word });
      await vi.advanceTimersByTimeAsync(1000);
      await live.close();
      expect(shown).toEqual([
        { text: '⏳ Thinking…', answerPreview: false },
        { text: '✍️ Writing the answer…\n\nHello', answerPreview: true },
        { text: '✍️ Writing the answer…\n\nHello there, world', answerPreview: true },
      ]);
    });
  });
});
