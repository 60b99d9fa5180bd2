import type { JobEvent } from '../jobs/job.ts';
import { formatBytes } from '../sandbox/file-transfer.ts';

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
export function summarizeCell(events: readonly JobEvent[]): string {
  let stdout = '';
  let stderr = '';
  const parts: string[] = [];
  let images = 0;
  for (const event of events) {
    switch (event.type) {
      case 'stdout':
        stdout += event.text;
        break;
      case 'stderr':
        stderr += event.text;
        break;
      case 'display': {
        const png = event.data['image/png'] ?? event.data['image/jpeg'];
        if (png !== undefined) {
          images += 1;
          parts.push(
            `[image ${images} shown to the user, ${formatBytes(Math.floor((png.length * 3) / 4))}]`,
          );
        } else if (event.data['text/plain'] !== undefined) {
          const label = event.kind === 'execute_result' ? 'result' : 'displayed';
          parts.push(`[${label}]\n${headAndTail(event.data['text/plain'], RESULT_CHARS, 500)}`);
        }
        break;
      }
      case 'error': {
        const lines = event.traceback.filter((l) => l.trim() !== '');
        parts.push(
          `[error] ${event.ename}: ${event.evalue}\n${lines.slice(-TRACEBACK_LINES).join('\n')}`,
        );
        break;
      }
      case 'file':
        parts.push(
          `[file sent to the user: /mnt/data/${event.path}, ${formatBytes(event.blob.sizeBytes)}]`,
        );
        break;
      case 'notice':
        parts.push(`[note] ${event.text}`);
        break;
      case 'done':
        parts.unshift(
          `[status: ${event.status}${event.message === undefined ? '' : ` (${event.message})`}]`,
        );
        break;
      default:
        break;
    }
  }
  if (stderr !== '') parts.splice(1, 0, `[stderr]\n${headAndTail(stderr)}`);
  if (stdout !== '') parts.splice(1, 0, `[stdout]\n${headAndTail(stdout)}`);
  return parts.join('\n');
}
