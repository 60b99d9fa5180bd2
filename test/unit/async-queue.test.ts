import { describe, expect, it } from 'vitest';
import { AsyncQueue } from '../../src/core/async-queue.ts';

async function readAll<T>(items: AsyncIterable<T>): Promise<T[]> {
  const read: T[] = [];
  for await (const item of items) read.push(item);
  return read;
}

describe('an async queue', () => {
  it('hands its reader what was pushed before and after it started, then ends', async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    const reading = readAll(queue);
    queue.push(2);
    await Promise.resolve();
    queue.push(3);
    queue.end();
    queue.push(4);
    await expect(reading).resolves.toEqual([1, 2, 3]);
  });

  it('fails its reader after the items pushed before the failure', async () => {
    const queue = new AsyncQueue<string>();
    const read: string[] = [];
    queue.push('a');
    queue.fail(new Error('container gone'));
    queue.end();
    await expect(
      (async () => {
        for await (const item of queue) read.push(item);
      })(),
    ).rejects.toThrow('container gone');
    expect(read).toEqual(['a']);
  });

  it('has one reader unless it replays', async () => {
    const queue = new AsyncQueue<number>();
    queue.end();
    await readAll(queue);
    await expect(readAll(queue)).rejects.toThrow(/one reader/);
  });

  it('with replay, lets any number of readers follow from the first item', async () => {
    const queue = new AsyncQueue<number>({ replay: true });
    queue.push(1);
    const early = readAll(queue);
    queue.push(2);
    await Promise.resolve();
    const late = readAll(queue);
    queue.push(3);
    queue.end();
    await expect(early).resolves.toEqual([1, 2, 3]);
    await expect(late).resolves.toEqual([1, 2, 3]);
    await expect(readAll(queue)).resolves.toEqual([1, 2, 3]);
  });

  it('ends at the item marked last, dropping what a race pushes after it', async () => {
    const queue = new AsyncQueue<string>({ isLast: (item) => item === 'done' });
    queue.push('out');
    queue.push('done');
    queue.push('late done');
    expect(queue.isEnded).toBe(true);
    await expect(readAll(queue)).resolves.toEqual(['out', 'done']);
  });
});
