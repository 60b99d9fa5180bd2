import { describe, expect, it } from 'vitest';
import { SLACK_RENDER_LIMITS } from '../../adapters/slack/slack-limits.ts';
import { SLACK_TABLE_LIMITS, tableBlock } from '../../adapters/slack/table-blocks.ts';
import type { RichResult } from '../../src/core/cell-result.ts';
import type { Reply, ReplyDisplay } from '../../src/core/reply.ts';
import { alignedTable, parseTable, TABLE_MIME, type TableData } from '../../src/core/table-data.ts';
import { shownAs } from '../../src/conversation/result-displays.ts';
import { renderReply, type RenderLimits } from '../../src/render/render-reply.ts';
import { blocksProblem } from '../fakes/fake-slack-blocks.ts';

const DISCORD: RenderLimits = {
  maxMessageChars: 2000,
  maxMessages: 5,
  maxFilesPerMessage: 10,
  maxFileBytes: 8 * 1024 * 1024,
};

/** What runner/tables.py sends for a frame of `rows` rows and `columns` numeric columns. */
function tableJson(rows: number, columns: number, sentRows = Math.min(rows, 100)): string {
  const names = Array.from({ length: columns }, (_, k) => `col${k}`);
  return JSON.stringify({
    columns: names.map((name) => ({ name, type: 'int64', numeric: true })),
    rows: Array.from({ length: sentRows }, (_, i) => names.map((_, k) => String(i * 10 + k))),
    totalRows: rows,
    totalColumns: columns,
    indexColumns: 0,
    csv: `${names.join(',')}\n`,
    csvRows: rows,
  });
}

function table(rows: number, columns: number): TableData {
  const parsed = parseTable(tableJson(rows, columns));
  if (parsed === undefined) throw new Error('the fixture is not a table');
  return parsed.table;
}

function reply(displays: ReplyDisplay[]): Reply {
  return { text: 'Here it is.', code: [], images: [], files: [], notices: [], displays };
}

const csv = { name: 'table-1.csv', content: Buffer.from('a\n1\n'), mime: 'text/csv' };

describe('table data from the sandbox', () => {
  it('reads a table and its CSV', () => {
    const parsed = parseTable(tableJson(300, 3));
    expect(parsed?.table.totalRows).toBe(300);
    expect(parsed?.table.rows).toHaveLength(100);
    expect(parsed?.table.columns.map((c) => c.name)).toEqual(['col0', 'col1', 'col2']);
    expect(parsed?.csv?.rows).toBe(300);
  });

  it('refuses what is not a table, and bounds what the sandbox could lie about', () => {
    expect(parseTable('not json')).toBeUndefined();
    expect(parseTable(JSON.stringify({ columns: [], rows: [] }))).toBeUndefined();
    expect(parseTable(tableJson(1000, 3, 101))).toBeUndefined();
    const lying = JSON.parse(tableJson(2, 2)) as { rows: string[][]; totalRows: number };
    lying.rows = [['x'.repeat(10_000), 'a\nb'], ['only one']];
    lying.totalRows = 0;
    const parsed = parseTable(JSON.stringify(lying));
    expect(parsed?.table.totalRows).toBe(2);
    expect(parsed?.table.rows[0]?.[0]?.length).toBeLessThanOrEqual(200);
    expect(parsed?.table.rows[0]?.[1]).toBe('a b');
    expect(parsed?.table.rows[1]).toEqual(['only one', '']);
  });

  it('aligns numbers right and leaves out whole columns that do not fit', () => {
    const small: TableData = {
      columns: [
        { name: 'name', type: 'object', numeric: false },
        { name: 'n', type: 'int64', numeric: true },
      ],
      rows: [
        ['ana', '5'],
        ['bo', '120'],
      ],
      totalRows: 2,
      totalColumns: 2,
      indexColumns: 0,
    };
    expect(alignedTable(small, 10, 100).text).toBe(
      ['name    n', '----  ---', 'ana     5', 'bo    120'].join('\n'),
    );
    const narrow = alignedTable(small, 10, 5);
    expect(narrow.columnsShown).toBe(1);
  });
});

describe('displays in a reply', () => {
  it('on a text surface: an aligned table with a caption, and the CSV when cut', () => {
    const messages = renderReply(
      reply([{ kind: 'table', table: table(300, 3), csv, csvRows: 300 }]),
      DISCORD,
    );
    const text = messages.map((m) => m.text).join('\n');
    expect(text).toContain('**Table 1** · 300 rows × 3 columns · first 20 rows shown');
    expect(text).toContain('all of it in table-1.csv');
    expect(text).toMatch(/col0 {2}col1 {2}col2\n----/);
    expect(messages.flatMap((m) => m.attachments).map((a) => a.name)).toEqual(['table-1.csv']);
    expect(messages.every((m) => m.text.length <= DISCORD.maxMessageChars)).toBe(true);
  });

  it('a table shown whole has no CSV', () => {
    const messages = renderReply(reply([{ kind: 'table', table: table(3, 2), csv }]), DISCORD);
    expect(messages.flatMap((m) => m.attachments)).toEqual([]);
    expect(messages[0]?.text).toContain('**Table 1** · 3 rows × 2 columns\n```');
  });

  it('JSON and formulas as code blocks, Markdown as it is', () => {
    const [message] = renderReply(
      reply([
        { kind: 'markdown', text: '## Result\n*done*' },
        { kind: 'json', text: '{\n  "a": 1\n}' },
        { kind: 'latex', text: '\\begin{align}x\\end{align}' },
      ]),
      DISCORD,
    );
    expect(message?.text).toBe(
      [
        'Here it is.',
        '## Result\n*done*',
        '```json\n{\n  "a": 1\n}\n```',
        '```latex\n\\begin{align}x\\end{align}\n```',
      ].join('\n\n'),
    );
  });

  it("on Slack: each table is a message of its own within the table block's limits", () => {
    const messages = renderReply(
      reply([
        { kind: 'table', table: table(300, 30), csv, csvRows: 300 },
        { kind: 'table', table: table(2, 2) },
      ]),
      SLACK_RENDER_LIMITS,
      { nativeTables: SLACK_TABLE_LIMITS },
    );
    expect(messages.map((m) => m.table !== undefined)).toEqual([false, true, true]);
    const [, first, second] = messages;
    expect(first?.text).toBe(
      '**Table 1** · 300 rows × 30 columns · first 99 rows and first 20 columns shown; all of it in table-1.csv',
    );
    expect(second?.text).toBe('**Table 2** · 2 rows × 2 columns');
    // The CSV rides on the last message, as every attachment does.
    expect(second?.attachments.map((a) => a.name)).toEqual(['table-1.csv']);
    for (const message of messages.slice(1)) {
      const block = tableBlock(message.table as TableData);
      expect(blocksProblem([block])).toBeUndefined();
    }
    expect(tableBlock(first?.table as TableData).rows).toHaveLength(100);
    expect(blocksProblem([tableBlock(table(2, 2)), tableBlock(table(2, 2))])).toBe(
      'only_one_table_allowed',
    );
  });
});

describe('which results the user sees', () => {
  const result = (kind: RichResult['kind'], data: Record<string, string>): RichResult => ({
    kind,
    data,
  });

  it('in a model turn: displays and images, not the value of the last expression', () => {
    const image = { id: 'b1', name: 'image-1.png', sizeBytes: 10, mime: 'image/png' };
    expect(shownAs(result('execute_result', { 'text/markdown': '*x*' }), false).display).toBe(
      undefined,
    );
    expect(shownAs(result('display_data', { 'text/markdown': '*x*' }), false).display).toEqual({
      kind: 'markdown',
      text: '*x*',
    });
    expect(shownAs({ kind: 'execute_result', data: {}, image }, false).image).toBe(true);
    // A formula drawn as an image is a value: the model's unless displayed.
    const formula = { kind: 'execute_result' as const, data: { 'text/latex': '$x$' }, image };
    expect(shownAs(formula, false).image).toBe(false);
    expect(shownAs(formula, true).image).toBe(true);
  });

  it('never HTML: an HTML display is its text form, in direct code only', () => {
    const html = result('display_data', {
      'text/html': '<script>alert(1)</script>',
      'text/plain': '<IPython.core.display.HTML object>',
    });
    expect(shownAs(html, true)).toEqual({ image: false, plainText: true });
    expect(shownAs(html, false)).toEqual({ image: false, plainText: false });
  });

  it('JSON pretty-printed', () => {
    const json = shownAs(result('display_data', { 'application/json': '{"a":[1,2]}' }), false);
    expect(json.display).toEqual({ kind: 'json', text: '{\n  "a": [\n    1,\n    2\n  ]\n}' });
    expect(TABLE_MIME).toBe('application/vnd.sandbot.table+json');
  });
});
