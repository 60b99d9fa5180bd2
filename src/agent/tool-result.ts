import type { CellResult } from '../core/cell-result.ts';
import { formatBytes } from '../core/bytes.ts';
import { tableSize } from '../core/table-data.ts';

/** Long output is cut to its head and tail: the model needs the shape, not every line. */
const STREAM_HEAD_CHARS = 2000;
const STREAM_TAIL_CHARS = 1500;
const RESULT_CHARS = 2000;
const TRACEBACK_LINES = 25;

export function headAndTail(
  text: string,
  head = STREAM_HEAD_CHARS,
  tail = STREAM_TAIL_CHARS,
): string {
  if (text.length <= head + tail + 100) return text;
  const omitted = text.length - head - tail;
  return `${text.slice(0, head)}\n... [${omitted} characters omitted] ...\n${text.slice(-tail)}`;
}

/**
 * What the model is told about one cell: compact, so a long thread stays within the
 * context window. Images and files are named with their sizes, never included.
 */
export function summarizeCell(result: CellResult): string {
  const status = `[status: ${result.status}${result.message === undefined ? '' : ` (${result.message})`}]`;
  const parts = [status];
  if (result.stdout !== '') parts.push(`[stdout]\n${headAndTail(result.stdout)}`);
  if (result.stderr !== '') parts.push(`[stderr]\n${headAndTail(result.stderr)}`);
  let images = 0;
  for (const shown of result.results) {
    const shownToUser = shown.kind === 'display_data';
    if (shown.image !== undefined && shown.data['text/latex'] !== undefined && !shownToUser) {
      parts.push(`[result]\n${headAndTail(shown.data['text/latex'], RESULT_CHARS, 500)}`);
    } else if (shown.image !== undefined) {
      images += 1;
      parts.push(`[image ${images} shown to the user, ${formatBytes(shown.image.sizeBytes)}]`);
    } else if (shown.table !== undefined) {
      const { table } = shown;
      const schema = table.columns.map((c) => `${c.name || '(index)'} ${c.type}`).join(', ');
      const label = shownToUser ? 'table shown to the user' : 'result: table';
      const text = shown.data['text/plain'];
      parts.push(
        `[${label}: ${tableSize(table)}; ${schema}]${text === undefined ? '' : `\n${headAndTail(text, RESULT_CHARS, 500)}`}`,
      );
    } else if (shown.data['text/plain'] !== undefined) {
      const label = shownToUser ? 'displayed' : 'result';
      parts.push(`[${label}]\n${headAndTail(shown.data['text/plain'], RESULT_CHARS, 500)}`);
    }
  }
  if (result.error !== undefined) {
    const { ename, evalue, traceback } = result.error;
    const lines = traceback.filter((l) => l.trim() !== '');
    parts.push(`[error] ${ename}: ${evalue}\n${lines.slice(-TRACEBACK_LINES).join('\n')}`);
  }
  for (const file of result.files)
    parts.push(
      `[file sent to the user: /mnt/data/${file.path}, ${formatBytes(file.blob.sizeBytes)}]`,
    );
  for (const notice of result.notices) parts.push(`[note] ${notice}`);
  return parts.join('\n');
}
