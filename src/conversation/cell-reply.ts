import type { BlobStore } from '../core/blob-store.ts';
import { cellImages, type CellResult } from '../core/cell-result.ts';
import type { SessionFile } from '../core/session-store.ts';
import type { Reply, ReplyAttachment } from '../core/reply.ts';

export interface RanCell {
  readonly code: string;
  readonly result: CellResult;
}

/**
 * The reply for cells that ran: their images and files fetched from the blob store, their
 * notices, and the answer text. Direct code has no model answer (`text` is empty): the
 * cells' output is the answer, as a code block.
 */
export async function replyForCells(
  text: string,
  cells: readonly RanCell[],
  notices: readonly string[],
  blobs: Pick<BlobStore, 'get'>,
): Promise<Reply> {
  const images: ReplyAttachment[] = [];
  const files: ReplyAttachment[] = [];
  const cellNotices: string[] = [];
  let outputText = '';
  for (const { result } of cells) {
    for (const ref of cellImages(result)) {
      const blob = await blobs.get(ref.id);
      const ext = ref.mime === 'image/png' ? 'png' : 'jpg';
      if (blob !== undefined)
        images.push({
          name: `plot-${images.length + 1}.${ext}`,
          content: blob.content,
          mime: ref.mime,
        });
    }
    for (const file of result.files) {
      const blob = await blobs.get(file.blob.id);
      if (blob !== undefined)
        files.push({
          name: file.path.split('/').pop() ?? file.path,
          content: blob.content,
          mime: file.blob.mime,
        });
    }
    cellNotices.push(...result.notices, ...(result.message === undefined ? [] : [result.message]));
    if (text === '') outputText += directOutput(result);
  }
  const answer =
    text !== '' ? text : outputText === '' ? '' : `\`\`\`\n${outputText.trimEnd()}\n\`\`\``;
  return {
    text: answer,
    code: cells.map((c) => c.code).filter((c) => c !== ''),
    images,
    files,
    notices: [...notices, ...cellNotices],
  };
}

/** What a cell shows as text: its streams, its text results, its exception in one line. */
function directOutput(result: CellResult): string {
  let text = result.stdout + result.stderr;
  for (const shown of result.results)
    if (shown.image === undefined && shown.data['text/plain'] !== undefined)
      text += `${shown.data['text/plain']}\n`;
  if (result.error !== undefined) text += `${result.error.ename}: ${result.error.evalue}\n`;
  return text;
}

/** The files cells wrote, as the thread's files. */
export function producedFiles(cells: readonly RanCell[]): SessionFile[] {
  return cells.flatMap(({ result }) =>
    result.files.map((f) => ({ name: f.path, blob: f.blob, origin: 'output' as const })),
  );
}
