import type { ReplyAttachment, ReplyDisplay } from '../core/reply.ts';
import { alignedTable, tableSize, type TableData } from '../core/table-data.ts';

/** How a surface that draws tables itself (Slack's table block) bounds one. */
export interface NativeTableLimits {
  /** Data rows, the header not counted. */
  readonly maxRows: number;
  readonly maxColumns: number;
}

/** A table cut to a surface's bounds, with the line that says what it is. */
export interface ShownTable {
  readonly caption: string;
  readonly table: TableData;
  /** The CSV, when the table shown is not all of it. */
  readonly csv?: ReplyAttachment;
}

/** Rows of a text table: enough to read, few enough to keep a chat message short. */
const TEXT_TABLE_ROWS = 20;
/** Characters per line of a text table, about what a chat client shows unwrapped. */
const TEXT_TABLE_WIDTH = 100;

/**
 * Displays as Markdown for surfaces without tables of their own (Discord, text fallbacks):
 * a table as an aligned block with a caption, a formula that could not be drawn and JSON as
 * code blocks, Markdown as it is. `maxChars` bounds one table block (a message's length).
 */
export function displaysAsText(
  displays: readonly ReplyDisplay[],
  maxChars: number,
): { blocks: string[]; attachments: ReplyAttachment[] } {
  const blocks: string[] = [];
  const attachments: ReplyAttachment[] = [];
  let tables = 0;
  for (const display of displays) {
    if (display.kind === 'markdown') blocks.push(display.text.trim());
    else if (display.kind === 'json') blocks.push(fenced(display.text, 'json'));
    else if (display.kind === 'latex') blocks.push(fenced(display.text, 'latex'));
    else {
      tables += 1;
      const shown = textTable(display, tables, maxChars);
      blocks.push(shown.text);
      if (shown.csv !== undefined) attachments.push(shown.csv);
    }
  }
  return { blocks, attachments };
}

function textTable(
  display: Extract<ReplyDisplay, { kind: 'table' }>,
  number: number,
  maxChars: number,
): { text: string; csv?: ReplyAttachment } {
  const { table } = display;
  // Fewer rows until the block fits one message, with room for the caption.
  for (let rows = TEXT_TABLE_ROWS; ; rows = Math.max(1, Math.floor(rows / 2))) {
    const aligned = alignedTable(table, rows, TEXT_TABLE_WIDTH);
    const cut = aligned.rowsShown < table.totalRows || aligned.columnsShown < table.totalColumns;
    const csv = cut ? csvFor(display, number) : undefined;
    const caption = captionFor(
      table,
      number,
      aligned.rowsShown,
      aligned.columnsShown,
      display,
      csv,
    );
    const text = `${caption}\n${fenced(aligned.text, '')}`;
    if (text.length <= maxChars || rows === 1)
      return { text, ...(csv === undefined ? {} : { csv }) };
  }
}

/** A table within a native surface's bounds, its caption, and its CSV when cut. */
export function nativeTable(
  display: Extract<ReplyDisplay, { kind: 'table' }>,
  number: number,
  limits: NativeTableLimits,
): ShownTable {
  const { table } = display;
  const columns = Math.min(table.columns.length, limits.maxColumns);
  const shown: TableData = {
    ...table,
    columns: table.columns.slice(0, columns),
    rows: table.rows.slice(0, limits.maxRows).map((row) => row.slice(0, columns)),
  };
  const cut = shown.rows.length < table.totalRows || columns < table.totalColumns;
  const csv = cut ? csvFor(display, number) : undefined;
  const caption = captionFor(table, number, shown.rows.length, columns, display, csv);
  return { caption, table: shown, ...(csv === undefined ? {} : { csv }) };
}

function csvFor(
  display: Extract<ReplyDisplay, { kind: 'table' }>,
  number: number,
): ReplyAttachment | undefined {
  if (display.csv === undefined) return undefined;
  return { ...display.csv, name: `table-${number}.csv` };
}

/** "Table 1 · 300 rows × 3 columns · first 20 rows shown, all of it in table-1.csv" */
function captionFor(
  table: TableData,
  number: number,
  rowsShown: number,
  columnsShown: number,
  display: Extract<ReplyDisplay, { kind: 'table' }>,
  csv: ReplyAttachment | undefined,
): string {
  const parts = [`**Table ${number}**`, tableSize(table)];
  const cutRows = rowsShown < table.totalRows;
  const cutColumns = columnsShown < table.totalColumns;
  if (cutRows || cutColumns) {
    const what = [
      ...(cutRows ? [`first ${rowsShown} rows`] : []),
      ...(cutColumns ? [`first ${columnsShown} columns`] : []),
    ].join(' and ');
    const csvRows = display.csvRows ?? 0;
    const where =
      csv === undefined
        ? ''
        : csvRows < table.totalRows
          ? `; ${csv.name} has the first ${csvRows.toLocaleString('en-US')} rows`
          : `; all of it in ${csv.name}`;
    parts.push(`${what} shown${where}`);
  }
  return parts.join(' · ');
}

/** A fenced block whose fence is longer than any backtick run inside it. */
export function fenced(text: string, language: string): string {
  const longestRun = (text.match(/`{3,}/g) ?? []).reduce((n, run) => Math.max(n, run.length), 2);
  const fence = '`'.repeat(longestRun + 1);
  return `${fence}${language}\n${text}\n${fence}`;
}
