import type { JobEvent } from '../jobs/job.ts';
import { formatBytes } from '../sandbox/file-transfer.ts';

/** One cell the thread ran, with the events its job produced, in order. */
export interface ExecutedCell {
  readonly code: string;
  readonly events: readonly JobEvent[];
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
 * executed cells with their outputs, after a markdown cell holding the title.
 */
export function exportNotebook(cells: readonly ExecutedCell[], meta: NotebookMeta): string {
  // Titles come from chat; a newline would end the heading and spill into a paragraph.
  const title = meta.title.replace(/\s+/g, ' ').trim();
  const heading = {
    cell_type: 'markdown',
    id: 'title-cell',
    metadata: {},
    source: sourceLines(`# ${title}`),
  };
  const codeCells = cells.map((cell, index) => {
    const count = index + 1;
    return {
      cell_type: 'code',
      // Ids derive from the position so the same thread always exports the same file.
      id: `cell-${String(count).padStart(4, '0')}`,
      metadata: {},
      execution_count: count,
      source: sourceLines(cell.code),
      outputs: outputsOf(cell.events, count),
    };
  });
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

function outputsOf(events: readonly JobEvent[], executionCount: number): Output[] {
  const outputs: Output[] = [];
  // Jupyter shows consecutive writes to one stream as one block, so they become one output.
  const write = (name: 'stdout' | 'stderr', text: string): void => {
    const last = outputs.at(-1);
    if (last?.output_type === 'stream' && last.name === name) last.text += text;
    else outputs.push({ output_type: 'stream', name, text });
  };
  for (const event of events) {
    switch (event.type) {
      case 'started':
        break;
      case 'stdout':
      case 'stderr':
        write(event.type, event.text);
        break;
      case 'display':
        // Copied so the notebook never shares (or is typed as) the event's readonly record.
        outputs.push(
          event.kind === 'execute_result'
            ? {
                output_type: 'execute_result',
                execution_count: executionCount,
                data: { ...event.data },
                metadata: {},
              }
            : { output_type: 'display_data', data: { ...event.data }, metadata: {} },
        );
        break;
      case 'error':
        outputs.push({
          output_type: 'error',
          ename: event.ename,
          evalue: event.evalue,
          traceback: [...event.traceback],
        });
        break;
      case 'file': {
        // The bytes went to the chat thread, not into the notebook; say where they went.
        const note = `📎 ${codeSpan(event.blob.name)} (${formatBytes(event.blob.sizeBytes)}) was sent to the thread`;
        outputs.push({
          output_type: 'display_data',
          data: { 'text/markdown': note },
          metadata: {},
        });
        break;
      }
      case 'notice':
        write('stderr', `${event.text}\n`);
        break;
      case 'done':
        // ok and error speak for themselves (an error has its own output); anything else
        // would leave a reader wondering why the output stops.
        if (event.status !== 'ok' && event.status !== 'error') {
          const message = event.message === undefined ? '' : ` ${event.message}`;
          write('stderr', `[cell ended: ${event.status}]${message}\n`);
        }
        break;
    }
  }
  return outputs;
}

/** A markdown code span that survives backticks in the name. */
function codeSpan(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}
