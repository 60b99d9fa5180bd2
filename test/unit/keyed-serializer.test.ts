import { describe, expect, it } from 'vitest';
import { KeyedSerializer, Serializer } from '../../src/core/keyed-serializer.ts';

describe('a serializer', () => {
  it('runs tasks one after the other in the order they came, through failures', async () => {
    const lane = new Serializer();
    const log: string[] = [];
    let release: () => void = () => undefined;
    const first = lane.run(async () => {
      log.push('start 1');
      await new Promise<void>((resolve) => (release = resolve));
      log.push('end 1');
      throw new Error('first failed');
    });
    const second = lane.run(() => {
      log.push('run 2');
      return Promise.resolve(2);
    });
    await Promise.resolve();
    expect(lane.pending).toBe(2);
    expect(log).toEqual(['start 1']);
    release();
    await expect(first).rejects.toThrow('first failed');
    await expect(second).resolves.toBe(2);
    expect(log).toEqual(['start 1', 'end 1', 'run 2']);
    expect(lane.pending).toBe(0);
  });

  it('counts a task as done by the time its caller resumes', async () => {
    const keyed = new KeyedSerializer();
    await keyed.run('k', () => Promise.resolve());
    expect(keyed.pending('k')).toBe(0);
  });

  it('keeps keys apart: a blocked key holds up no other', async () => {
    const keyed = new KeyedSerializer();
    let release: () => void = () => undefined;
    const blocked = keyed.run('a', () => new Promise<void>((resolve) => (release = resolve)));
    await expect(keyed.run('b', () => Promise.resolve('b'))).resolves.toBe('b');
    expect(keyed.pending('a')).toBe(1);
    expect(keyed.pending('b')).toBe(0);
    release();
    await blocked;
    expect(keyed.pending('a')).toBe(0);
  });
});
