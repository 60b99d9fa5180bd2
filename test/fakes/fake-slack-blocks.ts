/**
 * Block Kit rules the fake Slack enforces on chat.postMessage and chat.update, as Slack's
 * reference states them: at most 50 blocks; a section's text at most 3,000 characters; a
 * table block at most 100 rows of at most 20 cells (raw_text, raw_number or rich_text), at
 * most 20 column settings, and one table per message. The error code, or undefined when the
 * blocks are acceptable.
 */
export function blocksProblem(blocks: readonly unknown[]): string | undefined {
  if (blocks.length > 50) return 'invalid_blocks';
  let tables = 0;
  let markdownChars = 0;
  for (const block of blocks) {
    if (!isObject(block) || typeof block.type !== 'string') return 'invalid_blocks';
    if (block.type === 'section' && isObject(block.text)) {
      const text = block.text.text;
      if (typeof text !== 'string' || text.length === 0 || text.length > 3000)
        return 'invalid_blocks';
    }
    // A markdown block: Markdown text, 12,000 characters across a message's markdown blocks.
    if (block.type === 'markdown') {
      const text = block.text;
      if (typeof text !== 'string' || text.length === 0) return 'invalid_blocks';
      markdownChars += text.length;
      if (markdownChars > 12_000) return 'invalid_blocks';
    }
    if (block.type === 'table') {
      tables += 1;
      if (tables > 1) return 'only_one_table_allowed';
      if (tableProblem(block)) return 'invalid_blocks';
    }
  }
  return undefined;
}

function tableProblem(block: Record<string, unknown>): boolean {
  const { rows, column_settings: settings } = block;
  if (!Array.isArray(rows) || rows.length === 0 || rows.length > 100) return true;
  if (settings !== undefined && (!Array.isArray(settings) || settings.length > 20)) return true;
  return rows.some(
    (row) =>
      !Array.isArray(row) ||
      row.length === 0 ||
      row.length > 20 ||
      row.some((cell) => !validCell(cell)),
  );
}

function validCell(cell: unknown): boolean {
  if (!isObject(cell)) return false;
  if (cell.type === 'raw_text') return typeof cell.text === 'string' && cell.text.length > 0;
  if (cell.type === 'raw_number')
    return typeof cell.text === 'string' || typeof cell.value === 'number';
  return cell.type === 'rich_text';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
