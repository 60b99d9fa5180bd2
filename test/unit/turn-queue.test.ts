import { describe, expect, it, vi } from 'vitest';
import { TurnQueue } from '../../src/conversation/turn-queue.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('one turn at a time per thread', () => {
  it('answers messages of a thread in order, one after the other', async () => {
    const queue = new TurnQueue();
    const log: string[] = [];
    const turn = (name: string, ms: number) => async () => {
      log.push(`start ${name}`);
      await tick(ms);
      log.push(`end ${name}`);
    };
    // On fake timers: run side by side, b and c (1 ms) would end before a (30 ms).
    vi.useFakeTimers();
    try {
      const all = Promise.all([
        queue.run('t', turn('a', 30)),
        queue.run('t', turn('b', 1)),
        queue.run('t', turn('c', 1)),
      ]);
      await vi.runAllTimersAsync();
      await all;
    } finally {
      vi.useRealTimers();
    }
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('keeps going after a failed turn, dropping nothing', async () => {
    const queue = new TurnQueue();
    const failed = queue.run('t', () => Promise.reject(new Error('model down')));
    const next = queue.run('t', () => Promise.resolve('answered'));
    await expect(failed).rejects.toThrow('model down');
    await expect(next).resolves.toBe('answered');
  });

  it('runs different threads side by side and counts what is pending', async () => {
    const queue = new TurnQueue();
    let release: () => void = () => undefined;
    const blocked = queue.run('a', () => new Promise<void>((resolve) => (release = resolve)));
    queue.run('a', () => Promise.resolve()).catch(() => undefined);
    expect(queue.pending('a')).toBe(2);
    await expect(queue.run('b', () => Promise.resolve('b done'))).resolves.toBe('b done');
    release();
    await blocked;
    await tick(0);
    await tick(0);
    expect(queue.pending('a')).toBe(0);
  });
});
