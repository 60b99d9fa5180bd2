import { z } from 'zod';

/**
 * A table a cell showed, as data: what sandbox-image/runner/tables.py sends for a DataFrame
 * under TABLE_MIME. Every surface draws its own table from it (Slack a table block, the
 * playground DOM nodes, Discord and the terminal aligned text); none receives HTML.
 */
export const TABLE_MIME = 'application/vnd.sandbot.table+json';

export interface TableColumn {
  readonly name: string;
  /** The dtype, as pandas names it (int64, float64, object, datetime64[ns]…). */
  readonly type: string;
  /** Right-aligned where a surface can align. */
  readonly numeric: boolean;
}

export interface TableData {
  readonly columns: readonly TableColumn[];
  /** The first rows, each value as display text. */
  readonly rows: readonly (readonly string[])[];
  readonly totalRows: number;
  /** Columns of the whole table, index columns included. */
  readonly totalColumns: number;
  /** How many leading columns are the frame's index (0 for the default 0..n-1). */
  readonly indexColumns: number;
}

/** The CSV that came with a table: the whole table, or its first `rows`. */
export interface TableCsv {
  readonly text: string;
  readonly rows: number;
}

// Bounds on what the sandbox may send, checked again here since user code can write to the
// protocol (docs/sandbox-protocol.md): the runner's own limits are smaller or equal.
const MAX_ROWS = 100;
const MAX_COLUMNS = 60;
const MAX_CELL_CHARS = 200;
const MAX_NAME_CHARS = 100;
const MAX_TYPE_CHARS = 64;

// One line per value: a line break or tab inside a value would break every aligned layout.
const cellText = z
  .string()
  .transform((text) => cut(text.replace(/[\r\n\t]+/g, ' '), MAX_CELL_CHARS));
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const tableSchema = z.object({
  columns: z
    .array(
      z.object({
        name: z.string().transform((text) => cut(text.replace(/[\r\n\t]+/g, ' '), MAX_NAME_CHARS)),
        type: z.string().transform((text) => cut(text, MAX_TYPE_CHARS)),
        numeric: z.boolean(),
      }),
    )
    .min(1)
    .max(MAX_COLUMNS),
  rows: z.array(z.array(cellText)).max(MAX_ROWS),
  totalRows: count,
  totalColumns: count,
  indexColumns: count.optional(),
  csv: z.string().optional(),
  csvRows: count.optional(),
});

/**
 * The table and its CSV from a bundle's TABLE_MIME value; undefined when the value is not a
 * well-formed table (then the display keeps its text form). Rows are made as wide as the
 * columns, and the totals never less than what was sent.
 */
export function parseTable(value: string): { table: TableData; csv?: TableCsv } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return undefined;
  }
  const parsed = tableSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const { columns, rows, csv, csvRows } = parsed.data;
  const width = columns.length;
  const table: TableData = {
    columns,
    rows: rows.map((row) =>
      row.length === width
        ? row
        : [...row.slice(0, width), ...Array<string>(Math.max(0, width - row.length)).fill('')],
    ),
    totalRows: Math.max(parsed.data.totalRows, rows.length),
    totalColumns: Math.max(parsed.data.totalColumns, width),
    indexColumns: Math.min(parsed.data.indexColumns ?? 0, width),
  };
  if (csv === undefined || csv === '') return { table };
  return { table, csv: { text: csv, rows: Math.min(csvRows ?? 0, table.totalRows) } };
}

/** "300 rows × 3 columns" */
export function tableSize(table: TableData): string {
  const rows = `${table.totalRows.toLocaleString('en-US')} row${table.totalRows === 1 ? '' : 's'}`;
  const columns = `${table.totalColumns} column${table.totalColumns === 1 ? '' : 's'}`;
  return `${rows} × ${columns}`;
}

/**
 * The table as aligned monospace lines (numbers right-aligned), at most `maxRows` rows and
 * `maxWidth` characters wide: columns that do not fit are left out, whole.
 */
export function alignedTable(
  table: TableData,
  maxRows: number,
  maxWidth: number,
): { text: string; rowsShown: number; columnsShown: number } {
  const rows = table.rows.slice(0, maxRows);
  const widths = table.columns.map((column, k) =>
    Math.max(width(column.name), ...rows.map((row) => width(row[k] ?? ''))),
  );
  let used = 0;
  let columnsShown = 0;
  for (const w of widths) {
    const next = used + (columnsShown === 0 ? 0 : 2) + w;
    if (columnsShown > 0 && next > maxWidth) break;
    used = next;
    columnsShown += 1;
  }
  const line = (values: readonly string[]) =>
    values
      .slice(0, columnsShown)
      .map((value, k) => {
        const pad = ' '.repeat(Math.max(0, (widths[k] ?? 0) - width(value)));
        return table.columns[k]?.numeric === true ? pad + value : value + pad;
      })
      .join('  ')
      .trimEnd();
  const header = line(table.columns.map((c) => c.name));
  const rule = widths
    .slice(0, columnsShown)
    .map((w) => '-'.repeat(w))
    .join('  ');
  const text = [header, rule, ...rows.map(line)].join('\n');
  return { text, rowsShown: rows.length, columnsShown };
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Characters as a monospace font shows them, near enough: one per grapheme. */
function width(text: string): number {
  return Array.from(graphemes.segment(text)).length;
}

function cut(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const kept = Array.from(graphemes.segment(text), (s) => s.segment).slice(0, limit - 1);
  return kept.length < limit - 1 ? text : `${kept.join('')}…`;
}
