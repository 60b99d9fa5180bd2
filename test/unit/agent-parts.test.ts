import { APIConnectionError, APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { describeModelError } from '../../src/agent/model-client.ts';
import { parsePythonArguments } from '../../src/agent/python-tool.ts';
import { headAndTail, summarizeCell } from '../../src/agent/tool-result.ts';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import { buildCellResult } from '../../src/core/cell-result-builder.ts';

describe('python tool arguments', () => {
  it('takes the code from JSON arguments', () => {
    expect(parsePythonArguments('{"code": "print(1)"}')).toEqual({ code: 'print(1)' });
  });

  it.each(['{"code": "print(1)"', 'print(1)', '{"src": "x"}', '[]', 'null'])(
    'answers malformed arguments %j with an error for the model',
    (raw) => {
      expect(parsePythonArguments(raw)).toHaveProperty('error');
    },
  );
});

describe('what the model is told about a cell', () => {
  it('keeps the head and tail of long output', () => {
    const long = Array.from({ length: 5000 }, (_, i) => `line ${i}`).join('\n');
    const cut = headAndTail(long);
    expect(cut.length).toBeLessThan(4000);
    expect(cut).toContain('line 0');
    expect(cut).toContain('line 4999');
    expect(cut).toMatch(/characters omitted/);
  });

  it('names images and files with sizes and keeps the end of a traceback', async () => {
    const blobs = new MemoryBlobStore({ maxBlobBytes: 1024 * 1024, ttlMs: 60_000 });
    const result = await buildCellResult(
      [
        { type: 'started', workerId: 'w', queueWaitMs: 1 },
        { type: 'stdout', text: 'rows: 3\n' },
        {
          type: 'display',
          kind: 'display_data',
          data: { 'image/png': 'A'.repeat(4000), 'text/plain': '<Figure>' },
        },
        {
          type: 'file',
          path: 'clean.xlsx',
          blob: { id: 'b', name: 'clean.xlsx', sizeBytes: 5000, mime: 'x' },
        },
        {
          type: 'error',
          ename: 'KeyError',
          evalue: "'price'",
          traceback: [...Array.from({ length: 60 }, (_, i) => `frame ${i}`), "KeyError: 'price'"],
        },
        { type: 'done', status: 'error', durationMs: 5, kernelRestarted: false },
      ],
      blobs,
    );
    const summary = summarizeCell(result);
    expect(summary.split('\n')[0]).toBe('[status: error]');
    expect(summary).toContain('[stdout]\nrows: 3');
    expect(summary).toContain('[image 1 shown to the user, 2.9 KB]');
    expect(summary).toContain('[file sent to the user: /mnt/data/clean.xlsx, 4.9 KB]');
    expect(summary).toContain("[error] KeyError: 'price'");
    expect(summary).not.toContain('frame 0\n');
    expect(summary).toContain('frame 59');
  });
});

describe('model errors in words a user can act on', () => {
  it.each([
    [new APIError(401, {}, 'no', new Headers()), /OPENAI_API_KEY/],
    [new APIError(404, {}, 'no', new Headers()), /OPENAI_MODEL/],
    [new APIError(429, {}, 'no', new Headers()), /rate-limited/],
    [new APIError(503, {}, 'no', new Headers()), /failed \(503\)/],
    [new APIConnectionError({ message: 'refused' }), /could not be reached/],
  ])('%s', (error, expected) => {
    expect(describeModelError(error)).toMatch(expected);
  });
});
