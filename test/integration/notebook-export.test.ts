import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import { buildCellResult } from '../../src/core/cell-result-builder.ts';
import type { JobEvent } from '../../src/core/job.ts';
import { exportNotebook, type ExecutedCell } from '../../src/sessions/notebook-export.ts';

const services = inject('services');

/** A valid 1x1 PNG, base64 as Jupyter stores image/png. */
const PNG_1X1 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

const started: JobEvent = { type: 'started', workerId: 'w1', queueWaitMs: 3 };
const done = (
  status: Extract<JobEvent, { type: 'done' }>['status'],
  message?: string,
): JobEvent => ({
  type: 'done',
  status,
  durationMs: 10,
  kernelRestarted: false,
  ...(message === undefined ? {} : { message }),
});

/** The thread's cells as their jobs reported them. */
const ran: { code: string; events: JobEvent[] }[] = [
  {
    code: 'for i in range(3):\n    print(i)\nimport sys; print("warn", file=sys.stderr)\n6 * 7',
    events: [
      started,
      { type: 'stdout', text: '0\n' },
      { type: 'stdout', text: '1\n2' },
      { type: 'stdout', text: '\n' },
      { type: 'stderr', text: 'warn\n' },
      { type: 'display', kind: 'execute_result', data: { 'text/plain': '42' } },
      done('ok'),
    ],
  },
  {
    code: 'import matplotlib.pyplot as plt\nplt.plot([1])\nplt.show()\n',
    events: [
      started,
      {
        type: 'display',
        kind: 'display_data',
        data: { 'image/png': PNG_1X1, 'text/plain': '<Figure size 1x1 with 1 Axes>' },
      },
      done('ok'),
    ],
  },
  {
    code: '1 / 0',
    events: [
      started,
      {
        type: 'error',
        ename: 'ZeroDivisionError',
        evalue: 'division by zero',
        traceback: [
          '\u001b[0;31mZeroDivisionError\u001b[0m Traceback (most recent call last)',
          'Cell In[3], line 1\n----> 1 1 / 0',
          '\u001b[0;31mZeroDivisionError\u001b[0m: division by zero',
        ],
      },
      done('error'),
    ],
  },
  {
    code: "df.to_excel('/mnt/data/clean.xlsx')",
    events: [
      started,
      {
        type: 'file',
        path: 'clean.xlsx',
        blob: {
          id: 'b1',
          name: 'clean.xlsx',
          sizeBytes: 5222,
          mime: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        },
      },
      done('ok'),
    ],
  },
  {
    code: 'import time\ntime.sleep(600)',
    events: [
      started,
      { type: 'stdout', text: 'sleeping\n' },
      {
        type: 'notice',
        text: 'The cell hit the time limit; variables from earlier cells are kept.',
      },
      done('timeout'),
    ],
  },
  {
    code: '',
    events: [started, done('lost', 'The worker running this cell stopped.')],
  },
];

interface NotebookJson {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, Record<string, unknown>>;
  cells: {
    cell_type: string;
    id: string;
    source: string[];
    execution_count?: number;
    outputs?: Record<string, unknown>[];
  }[];
}

/** Runs the real nbformat validator in the sandbox image, the notebook on stdin. */
function validateInSandbox(image: string, notebook: string): Promise<string> {
  const script =
    "import sys, nbformat; nb = nbformat.reads(sys.stdin.read(), as_version=4); nbformat.validate(nb); print('valid', len(nb.cells))";
  return new Promise((resolve, reject) => {
    const child = spawn('docker', [
      'run',
      '--rm',
      '-i',
      '--network',
      'none',
      image,
      'python3',
      '-c',
      script,
    ]);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout.trim());
      else reject(new Error(`nbformat validation failed (exit ${code}):\n${stderr}`));
    });
    child.stdin.end(notebook, 'utf8');
  });
}

describe.skipIf(services.sandboxImage === undefined)('notebook export', () => {
  const blobs = new MemoryBlobStore({ maxBlobBytes: 1024 * 1024, ttlMs: 60_000 });
  let cells: ExecutedCell[];
  let text: string;
  let nb: NotebookJson;
  let code: NotebookJson['cells'];
  beforeAll(async () => {
    cells = await Promise.all(
      ran.map(async (cell) => ({
        code: cell.code,
        result: await buildCellResult(cell.events, blobs),
      })),
    );
    text = await exportNotebook(
      cells,
      { title: 'Clean the\nsales data', pythonVersion: '3.12.7' },
      blobs,
    );
    nb = JSON.parse(text) as NotebookJson;
    code = nb.cells.slice(1);
  });
  const outputs = (i: number) => code[i]?.outputs ?? [];

  it('passes the real nbformat validator', async () => {
    const image = services.sandboxImage ?? 'unreachable';
    expect(await validateInSandbox(image, text)).toBe(`valid ${cells.length + 1}`);
    // Without a Python version, language_info loses its version and stays valid.
    const bare = await exportNotebook([], { title: 'empty' }, blobs);
    expect((JSON.parse(bare) as NotebookJson).metadata.language_info).toEqual({ name: 'python' });
    expect(await validateInSandbox(image, bare)).toBe('valid 1');
  });

  it('writes the top level, the title cell and the cell ids', () => {
    expect(nb.nbformat).toBe(4);
    expect(nb.nbformat_minor).toBe(5);
    expect(nb.metadata.kernelspec).toEqual({
      name: 'python3',
      display_name: 'Python 3',
      language: 'python',
    });
    expect(nb.metadata.language_info).toEqual({ name: 'python', version: '3.12.7' });
    expect(nb.metadata.sandbot).toEqual({ title: 'Clean the\nsales data' });
    expect(nb.cells[0]).toEqual({
      cell_type: 'markdown',
      id: expect.stringMatching(/^[A-Za-z0-9_-]{8,}$/) as unknown,
      metadata: {},
      source: ['# Clean the sales data'],
    });
    const ids = nb.cells.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{8,}$/);
  });

  it('numbers code cells in order and keeps line ends in the source', () => {
    expect(code.map((c) => c.cell_type)).toEqual(cells.map(() => 'code'));
    expect(code.map((c) => c.execution_count)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(code[0]?.source).toEqual([
      'for i in range(3):\n',
      '    print(i)\n',
      'import sys; print("warn", file=sys.stderr)\n',
      '6 * 7',
    ]);
    expect(code[1]?.source.at(-1)).toBe('plt.show()\n');
    expect(code[5]?.source).toEqual([]);
  });

  it('merges consecutive stream events and keeps the execute result', () => {
    expect(outputs(0)).toEqual([
      { output_type: 'stream', name: 'stdout', text: '0\n1\n2\n' },
      { output_type: 'stream', name: 'stderr', text: 'warn\n' },
      {
        output_type: 'execute_result',
        execution_count: 1,
        data: { 'text/plain': '42' },
        metadata: {},
      },
    ]);
  });

  it('keeps image data as base64 text', () => {
    expect(outputs(1)).toEqual([
      {
        output_type: 'display_data',
        data: { 'image/png': PNG_1X1, 'text/plain': '<Figure size 1x1 with 1 Axes>' },
        metadata: {},
      },
    ]);
  });

  it('keeps the text form of an image that has expired from storage', async () => {
    const gone = new MemoryBlobStore({ maxBlobBytes: 1024 * 1024, ttlMs: 60_000 });
    const [plot] = ran.slice(1, 2);
    const result = await buildCellResult(plot?.events ?? [], gone);
    const imageId = result.results[0]?.image?.id ?? '';
    await gone.delete(imageId);
    const later = JSON.parse(
      await exportNotebook([{ code: plot?.code ?? '', result }], { title: 't' }, gone),
    ) as NotebookJson;
    expect(later.cells[1]?.outputs).toEqual([
      {
        output_type: 'display_data',
        data: { 'text/plain': '<Figure size 1x1 with 1 Axes>' },
        metadata: {},
      },
    ]);
  });

  it('writes errors with their traceback', () => {
    expect(outputs(2)).toEqual([
      {
        output_type: 'error',
        ename: 'ZeroDivisionError',
        evalue: 'division by zero',
        traceback: ran[2]?.events.flatMap((e) => (e.type === 'error' ? e.traceback : [])),
      },
    ]);
  });

  it('says where a sent file went', () => {
    expect(outputs(3)).toEqual([
      {
        output_type: 'display_data',
        data: { 'text/markdown': '📎 `clean.xlsx` (5.1 KB) was sent to the thread' },
        metadata: {},
      },
    ]);
  });

  it('shows notices and abnormal endings on stderr', () => {
    expect(outputs(4)).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'sleeping\n' },
      {
        output_type: 'stream',
        name: 'stderr',
        text: 'The cell hit the time limit; variables from earlier cells are kept.\n[cell ended: timeout]\n',
      },
    ]);
    expect(outputs(5)).toEqual([
      {
        output_type: 'stream',
        name: 'stderr',
        text: '[cell ended: lost] The worker running this cell stopped.\n',
      },
    ]);
  });
});
