import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/conversation/parse-message.ts';

describe('reading what a message asks for', () => {
  it('runs a message that is only a python block, without the model', () => {
    expect(parseMessage('```python\nx = 1\nprint(x)\n```')).toEqual({
      kind: 'code',
      code: 'x = 1\nprint(x)',
    });
    expect(parseMessage('  ```\n1 + 1\n```  ')).toEqual({ kind: 'code', code: '1 + 1' });
  });

  it('runs code given to `run`, fenced, inline or bare', () => {
    expect(parseMessage('run ```py\nprint(2)\n```')).toEqual({ kind: 'code', code: 'print(2)' });
    expect(parseMessage('/run `print(3)`')).toEqual({ kind: 'code', code: 'print(3)' });
    expect(parseMessage('run import os\nos.listdir()')).toEqual({
      kind: 'code',
      code: 'import os\nos.listdir()',
    });
  });

  it('explains `run` with nothing to run', () => {
    expect(parseMessage('run')).toEqual({ kind: 'usage', name: 'run' });
    expect(parseMessage('run ```\n```')).toEqual({ kind: 'usage', name: 'run' });
  });

  it.each(['reset', 'forget', 'stop', 'export', 'status', 'help', '/help', '!reset', 'RESET'])(
    'knows the command %j',
    (text) => {
      expect(parseMessage(text)).toMatchObject({ kind: 'command', argument: '' });
    },
  );

  it('takes a file name after `files`', () => {
    expect(parseMessage('files')).toEqual({ kind: 'command', name: 'files', argument: '' });
    expect(parseMessage('files clean.xlsx')).toEqual({
      kind: 'command',
      name: 'files',
      argument: 'clean.xlsx',
    });
  });

  it.each([
    'help me plot revenue by month',
    'stop using red',
    'reset the index of df please',
    'what is 2+2?',
    'export to csv',
  ])('leaves %j to the model', (text) => {
    expect(parseMessage(text)).toEqual({ kind: 'chat', text });
  });

  it('does not treat a block with prose around it as direct code', () => {
    expect(parseMessage('why does this fail?\n```python\n1/0\n```').kind).toBe('chat');
  });
});
