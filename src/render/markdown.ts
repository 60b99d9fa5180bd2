import MarkdownIt from 'markdown-it';
import type { StateBlock, Token } from 'markdown-it';

/**
 * The one Markdown parser on the server: markdown-it (CommonMark plus GitHub tables and
 * strikethrough), the library the playground renders with too, so every surface reads model
 * text the same way. HTML is off (it stays text) and only web and mail links are links.
 */

/** Web and mail links only: `javascript:`, `data:`, Slack's `!channel` or `@U123` never link. */
export function isWebLink(url: string): boolean {
  return /^(https?:\/\/|mailto:)/i.test(url.trim());
}

/**
 * Blocks nested deeper than this (quotes, lists) are kept as the text they were written as,
 * in one `md_plain` token: markdown-it itself drops everything past its nesting limit, and a
 * hostile answer must neither vanish nor cost deep recursion in whoever reads the tokens.
 */
export const MAX_BLOCK_LEVEL = 16;

/** Token type of text nested past MAX_BLOCK_LEVEL; its `content` is the raw remaining lines. */
export const PLAIN_TOKEN = 'md_plain';

function keepDeepBlocksAsText(
  state: StateBlock,
  startLine: number,
  endLine: number,
  silent: boolean,
): boolean {
  if (state.level < MAX_BLOCK_LEVEL) return false;
  if (silent) return true;
  const token = state.push(PLAIN_TOKEN, 'p', 0);
  token.content = state.getLines(startLine, endLine, state.blkIndent, false).replace(/\n$/, '');
  token.map = [startLine, endLine];
  token.block = true;
  state.line = endLine;
  return true;
}

const parser = new MarkdownIt({ html: false, linkify: false, typographer: false });
parser.validateLink = isWebLink;
parser.block.ruler.before('table', PLAIN_TOKEN, keepDeepBlocksAsText);

/** The block tokens of `markdown` (inline tokens in each `inline` token's children). */
export function parseMarkdown(markdown: string): Token[] {
  return parser.parse(markdown, {});
}

export type { Token };
