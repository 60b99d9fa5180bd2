import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import type { CellEvent, CellStatus, MimeBundle } from '../../src/core/cell-events.ts';
import { buildCellResult } from '../../src/core/cell-result-builder.ts';
import type { CellError } from '../../src/core/cell-result.ts';

export interface CellImage {
  readonly mime: string;
  readonly content: Buffer;
}

/**
 * Everything one cell produced in the sandbox, bytes included, for tests that look at what
 * the kernel did: the CellResult the product builds, with its blobs fetched back.
 */
export interface CellOutcome {
  readonly status: CellStatus;
  readonly stdout: string;
  readonly stderr: string;
  readonly error: CellError | undefined;
  /** Rich results in order, as mime bundles (images back inline, as the kernel sent them). */
  readonly displays: readonly MimeBundle[];
  readonly images: readonly CellImage[];
  readonly files: readonly { path: string; content: Buffer }[];
  readonly notices: readonly string[];
  readonly durationMs: number;
  readonly kernelRestarted: boolean;
  readonly executionCount: number | undefined;
}

export async function collectOutcome(events: AsyncIterable<CellEvent>): Promise<CellOutcome> {
  const blobs = new MemoryBlobStore({ maxBlobBytes: Number.MAX_SAFE_INTEGER, ttlMs: 3_600_000 });
  let status: CellStatus | undefined;
  async function* watched() {
    for await (const event of events) {
      if (event.type === 'done') status = event.status;
      yield event;
    }
  }
  const result = await buildCellResult(watched(), blobs);
  if (status === undefined) throw new Error('the cell ended without a done event');
  const bytes = async (id: string) => (await blobs.get(id))?.content ?? Buffer.alloc(0);
  const images: CellImage[] = [];
  const displays: MimeBundle[] = [];
  for (const shown of result.results) {
    if (shown.image === undefined) {
      displays.push(shown.data);
      continue;
    }
    const content = await bytes(shown.image.id);
    images.push({ mime: shown.image.mime, content });
    displays.push({ ...shown.data, [shown.image.mime]: content.toString('base64') });
  }
  return {
    status,
    stdout: result.stdout,
    stderr: result.stderr,
    error: result.error,
    displays,
    images,
    files: await Promise.all(
      result.files.map(async (f) => ({ path: f.path, content: await bytes(f.blob.id) })),
    ),
    notices: result.notices,
    durationMs: result.durationMs,
    kernelRestarted: result.kernelRestarted,
    executionCount: result.executionCount,
  };
}
