import type { types } from '@slack/bolt';
import type { TableData } from '../../src/core/table-data.ts';
import type { NativeTableLimits } from '../../src/render/display-text.ts';

type TableBlock = types.TableBlock;

/**
 * Slack's table block: at most 100 rows (the header is one of them) of at most 20 cells, and
 * one table per message (`only_one_table_allowed`), which is why every table is a message of
 * its own (src/render/render-reply.ts, `nativeTables`).
 */
export const SLACK_TABLE_LIMITS: NativeTableLimits = { maxRows: 99, maxColumns: 20 };

/** A table (already cut to SLACK_TABLE_LIMITS) as a table block: header row, then the data. */
export function tableBlock(table: TableData): TableBlock {
  const row = (values: readonly string[]) =>
    // An empty raw_text is not a cell Slack documents; a space reads the same.
    values.map((text) => ({ type: 'raw_text' as const, text: text === '' ? ' ' : text }));
  return {
    type: 'table',
    rows: [row(table.columns.map((c) => c.name)), ...table.rows.map(row)],
    column_settings: table.columns.map((c) => ({ align: c.numeric ? 'right' : 'left' })),
  };
}
