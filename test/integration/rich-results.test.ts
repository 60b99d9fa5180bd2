/**
 * Rich results from a real sandbox to the messages each surface posts: a DataFrame as table
 * data (schema, first rows, total, CSV), an SVG and a formula drawn to PNG inside the sandbox,
 * Markdown and JSON displays, and hostile displays (script, onerror, javascript: links, an SVG
 * reaching for files and the network) that show as nothing but text or pixels anywhere.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SLACK_RENDER_LIMITS } from '../../adapters/slack/slack-limits.ts';
import { SLACK_TABLE_LIMITS, tableBlock } from '../../adapters/slack/table-blocks.ts';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import { buildCellResult } from '../../src/core/cell-result-builder.ts';
import type { CellResult } from '../../src/core/cell-result.ts';
import { replyForCells } from '../../src/conversation/cell-reply.ts';
import { renderReply, type RenderLimits } from '../../src/render/render-reply.ts';
import { exportNotebook } from '../../src/sessions/notebook-export.ts';
import { blocksProblem } from '../fakes/fake-slack-blocks.ts';
import { startManager, type ManagerHarness } from '../support/sandbox.ts';

const services = inject('services');

const DISCORD: RenderLimits = {
  maxMessageChars: 2000,
  maxMessages: 5,
  maxFilesPerMessage: 10,
  maxFileBytes: 8 * 1024 * 1024,
};

const FRAME_CODE = [
  'import pandas as pd',
  "df = pd.DataFrame({'city': [f'c{i}' for i in range(300)], 'sales': [i * 1.5 for i in range(300)], 'n': range(300)})",
  'display(df)',
].join('\n');

describe.skipIf(services.sandboxImage === undefined)('rich results', () => {
  let harness: ManagerHarness;
  let blobs: MemoryBlobStore;
  let server: Server;
  let serverHits = 0;
  let serverUrl: string;

  beforeAll(async () => {
    harness = await startManager({ outputLimitBytes: 1024 * 1024 });
    blobs = new MemoryBlobStore({ maxBlobBytes: 10 * 1024 * 1024, ttlMs: 3_600_000 });
    server = createServer((_request, response) => {
      serverHits += 1;
      response.end('x');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.close();
    const leftovers = await harness.close();
    expect(leftovers).toBe(0);
  });

  async function runCell(session: string, code: string): Promise<CellResult> {
    return buildCellResult(harness.manager.session(session).execute(code), blobs);
  }

  it('a displayed 300-row DataFrame is table data, shown natively on Slack and aligned on Discord', async () => {
    const result = await runCell('rich:frame', FRAME_CODE);
    expect(result.status).toBe('ok');
    const [shown] = result.results;
    expect(shown?.table?.columns).toEqual([
      { name: 'city', type: 'object', numeric: false },
      { name: 'sales', type: 'float64', numeric: true },
      { name: 'n', type: 'int64', numeric: true },
    ]);
    expect(shown?.table?.totalRows).toBe(300);
    expect(shown?.table?.rows).toHaveLength(100);
    expect(shown?.table?.rows[2]).toEqual(['c2', '3.0', '2']);
    // No HTML travels as a table, and the table's own mime type is not kept twice.
    expect(Object.keys(shown?.data ?? {}).sort()).toEqual(['text/html', 'text/plain']);
    const csv = await blobs.get(shown?.csv?.id ?? '');
    expect(csv?.content.toString().trim().split('\n')).toHaveLength(301);

    const reply = await replyForCells(
      'Here are the sales.',
      [{ code: FRAME_CODE, result }],
      [],
      blobs,
    );
    const slack = renderReply(reply, SLACK_RENDER_LIMITS, { nativeTables: SLACK_TABLE_LIMITS });
    const tableMessage = slack.find((m) => m.table !== undefined);
    expect(tableMessage?.text).toBe(
      '**Table 1** · 300 rows × 3 columns · first 99 rows shown; all of it in table-1.csv',
    );
    const block = tableBlock(tableMessage?.table ?? { ...emptyTable });
    expect(blocksProblem([block])).toBeUndefined();
    expect(block.rows).toHaveLength(100);
    const slackFiles = slack.flatMap((m) => m.attachments);
    expect(slackFiles.map((f) => f.name)).toEqual(['table-1.csv']);
    expect(slackFiles[0]?.content.toString().split('\n')[300]).toBe('c299,448.5,299');

    const discord = renderReply(reply, DISCORD);
    const text = discord.map((m) => m.text).join('\n');
    expect(text).toContain('**Table 1** · 300 rows × 3 columns · first 20 rows shown');
    expect(text).toContain('city  sales   n\n----  -----  --\nc0      0.0   0\n');
    expect(discord.flatMap((m) => m.attachments).map((f) => f.name)).toEqual(['table-1.csv']);
    expect(discord.every((m) => m.text.length <= DISCORD.maxMessageChars)).toBe(true);
  });

  it('an SVG arrives as a PNG drawn in the sandbox, with the .svg attached; its external references load nothing', async () => {
    const svg = [
      '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="300" height="150">',
      '<rect width="150" height="150" fill="#ff0000"/>',
      `<image href="${serverUrl}/pixel.png" x="200" width="10" height="10"/>`,
      '<image xlink:href="file:///etc/passwd" x="220" width="10" height="10"/>',
      '</svg>',
    ].join('');
    const code = `from IPython.display import SVG, display\ndisplay(SVG(${JSON.stringify(svg)}))`;
    const result = await runCell('rich:svg', code);
    expect(result.status).toBe('ok');
    const [shown] = result.results;
    expect(shown?.image?.mime).toBe('image/png');
    const png = decode((await blobs.get(shown?.image?.id ?? ''))?.content ?? Buffer.alloc(0));
    expect([png.width, png.height]).toEqual([300, 150]);
    expect([...png.data.subarray(0, 3)]).toEqual([255, 0, 0]);
    expect(serverHits).toBe(0);

    const reply = await replyForCells('A drawing.', [{ code, result }], [], blobs);
    expect(reply.images.map((i) => i.name)).toEqual(['plot-1.png']);
    expect(reply.files.map((f) => [f.name, f.mime])).toEqual([['figure-1.svg', 'image/svg+xml']]);
  });

  it('Markdown, a formula and JSON displays render as described; HTML never does', async () => {
    const code = [
      'from IPython.display import Markdown, Math, Latex, JSON, HTML, display',
      "display(Markdown('## Summary\\n**3** cities [click](javascript:alert(1))'))",
      "display(Math(r'\\frac{a}{b} + x^2'))",
      "display(Latex(r'\\begin{align} x &= 1 \\end{align}'))",
      "display(JSON({'a': [1, 2]}))",
      'display(HTML(\'<script>alert(1)</script><img src=x onerror="alert(2)"><b>bold</b>\'))',
    ].join('\n');
    const result = await runCell('rich:displays', code);
    expect(result.status).toBe('ok');
    const [markdown, formula, latex, json, html] = result.results;
    expect(markdown?.data['text/markdown']).toContain('## Summary');
    expect(formula?.image?.mime).toBe('image/png');
    expect(latex?.image).toBeUndefined();
    expect(json?.data['application/json']).toBe('{"a": [1, 2]}');
    expect(html?.data['text/html']).toContain('<script>');

    const reply = await replyForCells('Done.', [{ code, result }], [], blobs);
    expect(reply.displays).toEqual([
      { kind: 'markdown', text: '## Summary\n**3** cities [click](javascript:alert(1))' },
      { kind: 'latex', text: '\\begin{align} x &= 1 \\end{align}' },
      { kind: 'json', text: '{\n  "a": [\n    1,\n    2\n  ]\n}' },
    ]);
    expect(reply.images).toHaveLength(1);
    // The code that ran is shown as code; everything else must carry none of the HTML.
    const shown = { ...reply, code: [] };
    const rendered = [
      ...renderReply(shown, DISCORD),
      ...renderReply(shown, SLACK_RENDER_LIMITS, { nativeTables: SLACK_TABLE_LIMITS }),
    ]
      .map((m) => m.text)
      .join('\n');
    expect(rendered).not.toContain('<script');
    expect(rendered).not.toContain('onerror');
    expect(rendered).toContain('```json\n{\n  "a"');
  });

  it('a table the sandbox lies about is refused or bounded, never trusted', async () => {
    const code = [
      'import json',
      'pub = get_ipython().display_pub',
      "MIME = 'application/vnd.sandbot.table+json'",
      "col = {'name': 'a', 'type': 'int64', 'numeric': True}",
      "pub.publish({MIME: json.dumps({'columns': [col], 'rows': [['1']] * 101, 'totalRows': 5, 'totalColumns': 1}), 'text/plain': 'too many rows'})",
      "pub.publish({MIME: '{not json', 'text/plain': 'broken'})",
      "pub.publish({MIME: json.dumps({'columns': [col], 'rows': [['x' * 5000, 'extra']], 'totalRows': -1, 'totalColumns': 1}), 'text/plain': 'lying'})",
      "pub.publish({MIME: json.dumps({'columns': [col], 'rows': [['1']], 'totalRows': 1, 'totalColumns': 1, 'csv': 'a\\n1\\n', 'csvRows': 10**9}), 'text/plain': 'csv rows'})",
    ].join('\n');
    const result = await runCell('rich:lying', code);
    expect(result.status).toBe('ok');
    const [tooMany, broken, lying, csvRows] = result.results;
    expect(tooMany?.table).toBeUndefined();
    expect(tooMany?.data['text/plain']).toBe('too many rows');
    expect(broken?.table).toBeUndefined();
    expect(lying?.table).toBeUndefined(); // a negative total is not a table
    expect(csvRows?.table?.totalRows).toBe(1);
    expect(csvRows?.csvRows).toBe(1);
    // What was refused keeps its text form and never reaches a surface as a table.
    const reply = await replyForCells('', [{ code, result }], [], blobs);
    expect(reply.displays?.map((d) => d.kind)).toEqual(['table']);
    expect(reply.text).toContain('too many rows');
  });

  it('the exported notebook keeps every mime type a cell produced', async () => {
    const code = [
      'import pandas as pd',
      'from IPython.display import SVG, Markdown, display',
      "display(pd.DataFrame({'a': [1, 2]}))",
      'display(SVG(\'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>\'))',
      "display(Markdown('*hi*'))",
    ].join('\n');
    const result = await runCell('rich:export', code);
    const notebook = JSON.parse(
      await exportNotebook([{ code, result }], { title: 't' }, blobs),
    ) as {
      cells: { outputs?: { data?: Record<string, unknown> }[] }[];
    };
    const outputs = notebook.cells[1]?.outputs ?? [];
    expect(outputs.map((o) => Object.keys(o.data ?? {}).sort())).toEqual([
      ['application/vnd.sandbot.table+json', 'text/html', 'text/plain'],
      ['image/png', 'image/svg+xml', 'text/plain'],
      ['text/markdown', 'text/plain'],
    ]);
  });
});

const emptyTable = { columns: [], rows: [], totalRows: 0, totalColumns: 0, indexColumns: 0 };
