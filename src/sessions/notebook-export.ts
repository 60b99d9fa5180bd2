import type { BlobStore } from '../core/blob-store.ts';
import { TABLE_MIME } from '../core/table-data.ts';
import type { CellResult, RichResult } from '../core/cell-result.ts';
import { formatBytes } from '../core/bytes.ts';

/** One cell the thread ran, with its result. */
export interface ExecutedCell {
  readonly code: string;
  readonly result: CellResult;
}

export interface NotebookMeta {
  readonly title: string;
  /** The sandbox's Python version, e.g. "3.12.7"; left out of language_info when unknown. */
  readonly pythonVersion?: string;
}

type MimeBundle = Record<string, string>;

type Output =
  | { output_type: 'stream'; name: 'stdout' | 'stderr'; text: string }
  | { output_type: 'execute_result'; execution_count: number; data: MimeBundle; metadata: object }
  | { output_type: 'display_data'; data: MimeBundle; metadata: object }
  | { output_type: 'error'; ename: string; evalue: string; traceback: string[] };

/**
 * A Jupyter nbformat 4.5 notebook (as a JSON string, pretty-printed) of the thread's
 * executed cells with their outputs, after a markdown cell holding the title. Images come
 * back from the blob store, base64 as Jupyter keeps them.
 */
export async function exportNotebook(
  cells: readonly ExecutedCell[],
  meta: NotebookMeta,
  blobs: Pick<BlobStore, 'get'>,
): Promise<string> {
  // Titles come from chat; a newline would end the heading and spill into a paragraph.
  const title = meta.title.replace(/\s+/g, ' ').trim();
  const heading = {
    cell_type: 'markdown',
    id: 'title-cell',
    metadata: {},
    source: sourceLines(`# ${title}`),
  };
  const codeCells = await Promise.all(
    cells.map(async (cell, index) => {
      const count = index + 1;
      return {
        cell_type: 'code',
        // Ids derive from the position so the same thread always exports the same file.
        id: `cell-${String(count).padStart(4, '0')}`,
        metadata: {},
        execution_count: count,
        source: sourceLines(cell.code),
        outputs: await outputsOf(cell.result, count, blobs),
      };
    }),
  );
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
      language_info: {
        name: 'python',
        ...(meta.pythonVersion === undefined ? {} : { version: meta.pythonVersion }),
      },
      sandbot: { title: meta.title },
    },
    cells: [heading, ...codeCells],
  };
  return JSON.stringify(notebook, null, 1) + '\n';
}

/** Splits text into lines that keep their '\n', as Jupyter stores a cell's source. */
function sourceLines(text: string): string[] {
  return text === '' ? [] : text.split(/(?<=\n)/);
}

async function outputsOf(
  result: CellResult,
  executionCount: number,
  blobs: Pick<BlobStore, 'get'>,
): Promise<Output[]> {
  const outputs: Output[] = [];
  // Jupyter shows consecutive writes to one stream as one block, so they become one output.
  const write = (name: 'stdout' | 'stderr', text: string): void => {
    const last = outputs.at(-1);
    if (last?.output_type === 'stream' && last.name === name) last.text += text;
    else outputs.push({ output_type: 'stream', name, text });
  };
  if (result.stdout !== '') write('stdout', result.stdout);
  if (result.stderr !== '') write('stderr', result.stderr);
  for (const shown of result.results) {
    const data = await bundleOf(shown, blobs);
    outputs.push(
      shown.kind === 'execute_result'
        ? { output_type: 'execute_result', execution_count: executionCount, data, metadata: {} }
        : { output_type: 'display_data', data, metadata: {} },
    );
  }
  if (result.error !== undefined) {
    const { ename, evalue, traceback } = result.error;
    outputs.push({ output_type: 'error', ename, evalue, traceback: [...traceback] });
  }
  for (const file of result.files) {
    // The bytes went to the chat thread, not into the notebook; say where they went.
    const note = `📎 ${codeSpan(file.blob.name)} (${formatBytes(file.blob.sizeBytes)}) was sent to the thread`;
    outputs.push({ output_type: 'display_data', data: { 'text/markdown': note }, metadata: {} });
  }
  for (const notice of result.notices) write('stderr', `${notice}\n`);
  // ok and error speak for themselves (an error has its own output); anything else would
  // leave a reader wondering why the output stops.
  if (result.status !== 'ok' && result.status !== 'error') {
    const message = result.message === undefined ? '' : ` ${result.message}`;
    write('stderr', `[cell ended: ${result.status}]${message}\n`);
  }
  return outputs;
}

/** A result's mime bundle with its image back inline; a copy, never the stored record. */
async function bundleOf(shown: RichResult, blobs: Pick<BlobStore, 'get'>): Promise<MimeBundle> {
  const data: MimeBundle = { ...shown.data };
  // The table's data under its own type, as the sandbox sent it (the CSV went to the thread).
  if (shown.table !== undefined) data[TABLE_MIME] = JSON.stringify(shown.table);
  if (shown.image === undefined) return data;
  const image = await blobs.get(shown.image.id);
  if (image !== undefined) data[shown.image.mime] = image.content.toString('base64');
  else data['text/plain'] ??= `[image ${shown.image.name} is no longer stored]`;
  return data;
}

/** A markdown code span that survives backticks in the name. */
function codeSpan(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}
