import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import type { CellEvent, JobEvent } from '../../src/core/cell-events.ts';
import { buildCellResult } from '../../src/core/cell-result-builder.ts';
import { cellBlobIds, cellImages, failureText } from '../../src/core/cell-result.ts';

/** A valid 1x1 PNG, base64 as the kernel sends it. */
const PNG_1X1 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

const store = (maxBlobBytes = 1024 * 1024) => new MemoryBlobStore({ maxBlobBytes, ttlMs: 60_000 });

describe('a cell result, built from its events', () => {
  it('gathers streams, rich results, the error, files and notices of a queued job', async () => {
    const blobs = store();
    const events: JobEvent[] = [
      { type: 'started', workerId: 'w', queueWaitMs: 3 },
      { type: 'stdout', text: 'rows: ' },
      { type: 'stderr', text: 'warning\n' },
      { type: 'stdout', text: '3\n' },
      {
        type: 'display',
        kind: 'execute_result',
        data: { 'text/plain': '42', 'text/html': '<b>42</b>' },
      },
      {
        type: 'file',
        path: 'out/clean.csv',
        blob: { id: 'b1', name: 'clean.csv', sizeBytes: 7, mime: 'text/csv' },
      },
      { type: 'error', ename: 'KeyError', evalue: "'x'", traceback: ['frame', "KeyError: 'x'"] },
      { type: 'notice', text: 'Output was cut at 1 MB.' },
      { type: 'done', status: 'error', durationMs: 25, kernelRestarted: false },
    ];
    expect(await buildCellResult(events, blobs)).toEqual({
      status: 'error',
      stdout: 'rows: 3\n',
      stderr: 'warning\n',
      results: [{ kind: 'execute_result', data: { 'text/plain': '42', 'text/html': '<b>42</b>' } }],
      error: { ename: 'KeyError', evalue: "'x'", traceback: ['frame', "KeyError: 'x'"] },
      files: [
        {
          path: 'out/clean.csv',
          blob: { id: 'b1', name: 'clean.csv', sizeBytes: 7, mime: 'text/csv' },
        },
      ],
      notices: ['Output was cut at 1 MB.'],
      durationMs: 25,
      kernelRestarted: false,
    });
  });

  it('keeps an image as a blob reference, not base64, and the bytes in the store', async () => {
    const blobs = store();
    const result = await buildCellResult(
      [
        {
          type: 'display',
          kind: 'display_data',
          data: { 'image/png': PNG_1X1, 'text/plain': '<Figure>' },
        },
        { type: 'done', status: 'ok', durationMs: 1, kernelRestarted: false },
      ],
      blobs,
    );
    const [image] = cellImages(result);
    expect(result.results).toEqual([
      { kind: 'display_data', data: { 'text/plain': '<Figure>' }, image },
    ]);
    expect(image).toMatchObject({ name: 'image-1.png', mime: 'image/png', sizeBytes: 70 });
    const stored = await blobs.get(image?.id ?? '');
    expect(stored?.content.toString('base64')).toBe(PNG_1X1);
    expect(JSON.stringify(result)).not.toContain(PNG_1X1);
    expect(cellBlobIds(result)).toEqual([image?.id]);
  });

  it("stores the sandbox's own file bytes and keeps its execution count", async () => {
    const blobs = store();
    const events: CellEvent[] = [
      { type: 'file', path: 'report.txt', content: Buffer.from('hello') },
      {
        type: 'done',
        status: 'ok',
        durationMs: 2,
        kernelRestarted: false,
        executionCount: 7,
      },
    ];
    const result = await buildCellResult(events, blobs);
    expect(result.executionCount).toBe(7);
    const [file] = result.files;
    expect(file?.blob).toMatchObject({ name: 'report.txt', mime: 'text/plain', sizeBytes: 5 });
    expect((await blobs.get(file?.blob.id ?? ''))?.content.toString()).toBe('hello');
  });

  it('keeps the text of an image too large to store, and says so', async () => {
    const result = await buildCellResult(
      [
        {
          type: 'display',
          kind: 'display_data',
          data: { 'image/png': PNG_1X1, 'text/plain': 'fig' },
        },
        { type: 'done', status: 'ok', durationMs: 1, kernelRestarted: false },
      ],
      store(10),
    );
    expect(result.results).toEqual([{ kind: 'display_data', data: { 'text/plain': 'fig' } }]);
    expect(result.notices.join('\n')).toMatch(/image was too large to keep/);
  });

  it('says what went wrong when the job failed, was lost, or ended without an outcome', async () => {
    const lost = await buildCellResult(
      [
        {
          type: 'done',
          status: 'lost',
          durationMs: 0,
          kernelRestarted: true,
          message: 'The worker running this cell stopped.',
        },
      ],
      store(),
    );
    expect(lost).toMatchObject({ status: 'lost', kernelRestarted: true });
    expect(failureText(lost)).toBe('The worker running this cell stopped.');
    const cut = await buildCellResult([{ type: 'stdout', text: 'partial' }], store());
    expect(cut).toMatchObject({ status: 'lost', stdout: 'partial' });
    expect(failureText(cut)).toMatch(/ended without/);
    const timeout = await buildCellResult(
      [{ type: 'done', status: 'timeout', durationMs: 9, kernelRestarted: false }],
      store(),
    );
    expect(failureText(timeout)).toBe('The kernel answered timeout.');
  });
});
