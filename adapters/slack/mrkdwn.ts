/**
 * Markdown (what the model and the core write) to Slack's mrkdwn. Slack does not render
 * CommonMark: `**bold**` shows its asterisks, `[text](url)` stays literal, a fence's language
 * tag shows as a first line of code, and `&`, `<`, `>` must be escaped or Slack reads them as
 * markup. The Markdown is read by the shared parser (src/render/markdown.ts) and its tokens
 * written out as mrkdwn; what Slack cannot show (tables, nesting) is approximated.
 */
import { isWebLink, parseMarkdown, PLAIN_TOKEN, type Token } from '../../src/render/markdown.ts';

/** Slack's three control characters, escaped as its docs ask (inside code too). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function markdownToMrkdwn(markdown: string): string {
  return blockLines(treeOf(parseMarkdown(markdown)), false).join('\n');
}

/** A block token with the tokens between its open and close. */
interface BlockNode {
  readonly token: Token;
  readonly children: BlockNode[];
}

function treeOf(tokens: readonly Token[]): BlockNode[] {
  const root: BlockNode[] = [];
  const stack: BlockNode[][] = [root];
  for (const token of tokens) {
    const siblings = stack.at(-1) ?? root;
    if (token.nesting === -1) {
      if (stack.length > 1) stack.pop();
      continue;
    }
    const node = { token, children: [] };
    siblings.push(node);
    if (token.nesting === 1) stack.push(node.children);
  }
  return root;
}

/** Blocks one after the other: a blank line between them, none in a tight list item. */
function blockLines(nodes: readonly BlockNode[], tight: boolean): string[] {
  const out: string[] = [];
  for (const node of nodes) {
    const lines = blockOf(node);
    if (lines.length === 0) continue;
    if (out.length > 0 && !tight) out.push('');
    out.push(...lines);
  }
  return out;
}

function blockOf(node: BlockNode): string[] {
  const { token, children } = node;
  switch (token.type) {
    case 'paragraph_open':
      return inlineOf(children).split('\n');
    case 'heading_open':
      // Slack has no headings; bold is the nearest, so bold inside is dropped.
      return [`*${inlineOf(children, { bold: false })}*`];
    case 'blockquote_open':
      // Slack quotes do not nest: a line already quoted stays quoted once.
      return blockLines(children, false).map((line) =>
        line.startsWith('>') ? line : line === '' ? '>' : `> ${line}`,
      );
    case 'bullet_list_open':
    case 'ordered_list_open':
      return listLines(node);
    case 'fence':
    case 'code_block':
      // Slack knows only ``` blocks and would show the language tag as code.
      return ['```', ...escapeMrkdwn(token.content.replace(/\n$/, '')).split('\n'), '```'];
    case 'table_open':
      return tableLines(node);
    case 'hr':
      return ['---'];
    case PLAIN_TOKEN:
      return escapeMrkdwn(token.content).split('\n');
    default:
      return token.content === '' ? [] : escapeMrkdwn(token.content).split('\n');
  }
}

function listLines(list: BlockNode): string[] {
  const ordered = list.token.type === 'ordered_list_open';
  let number = Number(list.token.attrGet('start') ?? 1);
  const out: string[] = [];
  for (const item of list.children) {
    const marker = ordered ? `${number++}. ` : '• ';
    const indent = ' '.repeat(marker.length + 1);
    const lines = blockLines(item.children, true);
    out.push(`${marker}${lines[0] ?? ''}`, ...lines.slice(1).map((line) => indent + line));
  }
  return out;
}

/** Slack has no tables; a monospaced block keeps the columns lined up. */
function tableLines(table: BlockNode): string[] {
  const rows: string[][] = [];
  const visit = (nodes: readonly BlockNode[]) => {
    for (const node of nodes) {
      if (node.token.type === 'tr_open') {
        rows.push(node.children.map((cell) => plainTextOf(cell.children)));
      } else visit(node.children);
    }
  };
  visit(table.children);
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const plain = rows.map((row) => row.join(' | '));
  const padded = rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join(' | ')
      .trimEnd(),
  );
  // The header row is the first; a rule under it, as the Markdown had.
  padded.splice(1, 0, widths.map((width) => '-'.repeat(width)).join('-|-'));
  // One very wide cell would pad every row to its width: keep the text short instead.
  const size = (lines: string[]) => lines.reduce((n, line) => n + line.length + 1, 0);
  const lines = size(padded) <= 2 * size(plain) ? padded : plain;
  return ['```', ...lines.map(escapeMrkdwn), '```'];
}

/** The inline content of a block: the children of its `inline` token. */
function inlineTokens(children: readonly BlockNode[]): Token[] {
  return children.flatMap((child) => child.token.children ?? []);
}

function plainTextOf(children: readonly BlockNode[]): string {
  return inlineTokens(children)
    .map((token) =>
      token.type === 'softbreak' || token.type === 'hardbreak' ? ' ' : token.content,
    )
    .join('');
}

function inlineOf(children: readonly BlockNode[], options = { bold: true }): string {
  const tokens = inlineTokens(children);
  let out = '';
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === undefined) continue;
    switch (token.type) {
      case 'code_inline':
        // Inline code is kept verbatim (escaped only).
        out += `\`${escapeMrkdwn(token.content)}\``;
        break;
      case 'softbreak':
      case 'hardbreak':
        out += '\n';
        break;
      case 'strong_open':
      case 'strong_close':
        if (options.bold) out += '*';
        break;
      case 'em_open':
      case 'em_close':
        out += '_';
        break;
      case 's_open':
      case 's_close':
        out += '~';
        break;
      case 'link_open': {
        const close = closingIndex(tokens, i);
        const label = tokens
          .slice(i + 1, close)
          .map((t) => t.content)
          .join('');
        out += link(String(token.attrGet('href') ?? ''), label);
        i = close;
        break;
      }
      case 'image':
        out += link(String(token.attrGet('src') ?? ''), token.content);
        break;
      default:
        out += escapeMrkdwn(token.content);
    }
  }
  return out;
}

function closingIndex(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    depth += tokens[i]?.nesting ?? 0;
    if (depth === 0) return i;
  }
  return tokens.length;
}

/**
 * Slack's form is <url|label>. Only web and mail links become one: `<!channel|x>` or
 * `<@U123|x>` would ping people, and model output (maybe steered by an uploaded file) must
 * never do that. The parser makes no other links; this check keeps it true here too.
 */
function link(url: string, label: string): string {
  const text = escapeMrkdwn(label || url);
  if (!isWebLink(url)) return text;
  return `<${escapeMrkdwn(url).replace(/\|/g, '%7C')}|${text}>`;
}

/**
 * Cuts mrkdwn to `limit` characters at a line break, closing a code block left open, for
 * places with a hard limit (a section block's text).
 */
export function clampMrkdwn(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const tail = '\n…\n```';
  let cut = text.slice(0, limit - tail.length);
  const lineEnd = cut.lastIndexOf('\n');
  if (lineEnd > cut.length / 2) cut = cut.slice(0, lineEnd);
  // An entity cut in half would show as text.
  cut = cut.replace(/&[a-z]{0,4}$/, '');
  const open = (cut.match(/```/g) ?? []).length % 2 === 1;
  return open ? `${cut}${tail}` : `${cut}\n…`;
}
