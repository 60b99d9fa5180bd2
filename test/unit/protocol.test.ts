import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/sandbox/line-splitter.ts';
import { parseFrame } from '../../src/sandbox/protocol.ts';

describe('runner frames', () => {
  it('parses a valid frame', () => {
    expect(parseFrame('{"type":"stream","id":"c1","name":"stdout","text":"hi\\n"}')).toEqual({
      type: 'stream',
      id: 'c1',
      name: 'stdout',
      text: 'hi\n',
    });
  });

  it.each([
    'not json',
    '{"type":"stream","id":"c1","name":"fd3","text":"x"}',
    '{"type":"done","id":"c1","status":"ok"}',
    '{"type":"unknown"}',
    '[]',
  ])('rejects %j', (line) => {
    expect(parseFrame(line)).toBeUndefined();
  });
});

describe('splitting the protocol stream into lines', () => {
  it('joins lines split across chunks, including multi-byte characters', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter(
      1000,
      (l) => lines.push(l),
      () => undefined,
    );
    const bytes = Buffer.from('héllo\nwörld\n');
    splitter.push(bytes.subarray(0, 2));
    splitter.push(bytes.subarray(2, 9));
    splitter.push(bytes.subarray(9));
    expect(lines).toEqual(['héllo', 'wörld']);
  });

  it('gives up on a line longer than the cap', () => {
    let overflowed = false;
    const splitter = new LineSplitter(
      10,
      () => undefined,
      () => (overflowed = true),
    );
    splitter.push(Buffer.from('x'.repeat(20)));
    expect(overflowed).toBe(true);
  });
});
