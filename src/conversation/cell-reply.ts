import type { BlobRef, BlobStore } from '../core/blob-store.ts';
import type { CellResult } from '../core/cell-result.ts';
import type { SessionFile } from '../core/session-store.ts';
import type { Reply, ReplyAttachment, ReplyDisplay } from '../core/reply.ts';
import { shownAs, type ResultDisplay } from './result-displays.ts';

export interface RanCell {
  readonly code: string;
  readonly result: CellResult;
}

/** More displays than this in one answer are left out, with a notice. */
const MAX_DISPLAYS_PER_REPLY = 10;

/**
 * The reply for cells that ran: their images, tables and other displays, files fetched from
 * the blob store, their notices, and the answer text. Direct code has no model answer (`text`
 * is empty): the cells' output is the answer, as a code block, and every result is shown
 * (see result-displays.ts for what a model turn shows).
 */
export async function replyForCells(
  text: string,
  cells: readonly RanCell[],
  notices: readonly string[],
  blobs: Pick<BlobStore, 'get'>,
): Promise<Reply> {
  const direct = text === '';
  const images: ReplyAttachment[] = [];
  const files: ReplyAttachment[] = [];
  const displays: ReplyDisplay[] = [];
  const cellNotices: string[] = [];
  let displaysLeftOut = 0;
  let outputText = '';
  for (const { result } of cells) {
    let plainText = '';
    for (const shown of result.results) {
      const as = shownAs(shown, direct);
      if (as.image && shown.image !== undefined) {
        const image = await fetched(blobs, shown.image, `plot-${images.length + 1}`);
        if (image !== undefined) images.push(image);
        const svg = shown.data['image/svg+xml'];
        if (svg !== undefined)
          files.push({
            name: `figure-${images.length}.svg`,
            content: Buffer.from(svg),
            mime: 'image/svg+xml',
          });
      }
      if (as.display !== undefined) {
        if (displays.length >= MAX_DISPLAYS_PER_REPLY) displaysLeftOut += 1;
        else displays.push(await replyDisplay(as.display, blobs));
      }
      if (as.plainText && shown.data['text/plain'] !== undefined)
        plainText += `${shown.data['text/plain']}\n`;
    }
    files.push(...(await producedAttachments(result, blobs)));
    cellNotices.push(...result.notices, ...(result.message === undefined ? [] : [result.message]));
    if (direct) outputText += directOutput(result, plainText);
  }
  if (displaysLeftOut > 0)
    cellNotices.push(
      `${displaysLeftOut} more table(s) or display(s) were not shown (at most ${MAX_DISPLAYS_PER_REPLY} per answer).`,
    );
  const answer =
    text !== '' ? text : outputText === '' ? '' : `\`\`\`\n${outputText.trimEnd()}\n\`\`\``;
  return {
    text: answer,
    code: cells.map((c) => c.code).filter((c) => c !== ''),
    images,
    files,
    notices: [...notices, ...cellNotices],
    ...(displays.length === 0 ? {} : { displays }),
  };
}

/** The files a cell wrote, fetched from the blob store (one that expired is left out). */
async function producedAttachments(
  result: CellResult,
  blobs: Pick<BlobStore, 'get'>,
): Promise<ReplyAttachment[]> {
  const files: ReplyAttachment[] = [];
  for (const file of result.files) {
    const blob = await blobs.get(file.blob.id);
    if (blob !== undefined)
      files.push({
        name: file.path.split('/').pop() ?? file.path,
        content: blob.content,
        mime: file.blob.mime,
      });
  }
  return files;
}

async function fetched(
  blobs: Pick<BlobStore, 'get'>,
  ref: BlobRef,
  stem: string,
): Promise<ReplyAttachment | undefined> {
  const blob = await blobs.get(ref.id);
  if (blob === undefined) return undefined;
  const ext = ref.mime === 'image/png' ? 'png' : 'jpg';
  return { name: `${stem}.${ext}`, content: blob.content, mime: ref.mime };
}

async function replyDisplay(
  display: ResultDisplay,
  blobs: Pick<BlobStore, 'get'>,
): Promise<ReplyDisplay> {
  if (display.kind !== 'table') return display;
  const { table, csv, csvRows } = display.result;
  if (table === undefined) throw new Error('a table display without its table');
  const blob = csv === undefined ? undefined : await blobs.get(csv.id);
  if (blob === undefined) return { kind: 'table', table };
  return {
    kind: 'table',
    table,
    csv: { name: csv?.name ?? 'table.csv', content: blob.content, mime: 'text/csv' },
    csvRows: csvRows ?? 0,
  };
}

/** What a cell shows as text: its streams, its plain results, its exception in one line. */
function directOutput(result: CellResult, plainText: string): string {
  let text = result.stdout + result.stderr + plainText;
  if (result.error !== undefined) text += `${result.error.ename}: ${result.error.evalue}\n`;
  return text;
}

/** The files cells wrote, as the thread's files. */
export function producedFiles(cells: readonly RanCell[]): SessionFile[] {
  return cells.flatMap(({ result }) =>
    result.files.map((f) => ({ name: f.path, blob: f.blob, origin: 'output' as const })),
  );
}
