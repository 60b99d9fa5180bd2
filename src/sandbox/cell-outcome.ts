import type { CellEvent, CellStatus } from './cell-events.ts';
import type { MimeBundle } from './protocol.ts';

export interface CellImage {
  readonly mime: 'image/png' | 'image/jpeg';
  readonly content: Buffer;
}

/** Everything one cell produced, gathered from its events. */
export interface CellOutcome {
  readonly status: CellStatus;
  readonly stdout: string;
  readonly stderr: string;
  readonly error: { ename: string; evalue: string; traceback: readonly string[] } | undefined;
  /** Rich results in order, as mime bundles (the last expression, `display()` calls). */
  readonly displays: readonly MimeBundle[];
  readonly images: readonly CellImage[];
  readonly files: readonly { path: string; content: Buffer }[];
  readonly notices: readonly string[];
  readonly durationMs: number;
  readonly kernelRestarted: boolean;
  readonly executionCount: number | undefined;
}

const IMAGE_MIMES = ['image/png', 'image/jpeg'] as const;

export async function collectOutcome(events: AsyncIterable<CellEvent>): Promise<CellOutcome> {
  let stdout = '';
  let stderr = '';
  let error: CellOutcome['error'];
  const displays: MimeBundle[] = [];
  const images: CellImage[] = [];
  const files: { path: string; content: Buffer }[] = [];
  const notices: string[] = [];
  for await (const event of events) {
    switch (event.type) {
      case 'stdout':
        stdout += event.text;
        break;
      case 'stderr':
        stderr += event.text;
        break;
      case 'display': {
        displays.push(event.data);
        const image = imageOf(event.data);
        if (image !== undefined) images.push(image);
        break;
      }
      case 'error':
        error = { ename: event.ename, evalue: event.evalue, traceback: event.traceback };
        break;
      case 'file':
        files.push({ path: event.path, content: event.content });
        break;
      case 'notice':
        notices.push(event.text);
        break;
      case 'done':
        return {
          status: event.status,
          stdout,
          stderr,
          error,
          displays,
          images,
          files,
          notices,
          durationMs: event.durationMs,
          kernelRestarted: event.kernelRestarted,
          executionCount: event.executionCount,
        };
    }
  }
  throw new Error('the cell ended without a done event');
}

export function imageOf(bundle: MimeBundle): CellImage | undefined {
  for (const mime of IMAGE_MIMES) {
    const data = bundle[mime];
    if (data !== undefined) return { mime, content: Buffer.from(data, 'base64') };
  }
  return undefined;
}
