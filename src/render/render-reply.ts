import type { Reply, ReplyAttachment, ReplyDisplay } from '../core/reply.ts';
import { formatBytes } from '../core/bytes.ts';
import type { TableData } from '../core/table-data.ts';
import { displaysAsText, nativeTable, type NativeTableLimits } from './display-text.ts';
import { parseMarkdown } from './markdown.ts';

/**
 * One place that turns a finished turn into chat messages: every adapter supplies its limits
 * and posts what comes back, so splitting, truncation and attachment rules never differ
 * between Slack, Discord and the playground. Lengths are UTF-16 code units (`string.length`),
 * never fewer than what a platform counts.
 */
export interface RenderLimits {
  /** Longest text of one message, e.g. Discord 2000, Slack 40000 (at least 200). */
  readonly maxMessageChars: number;
  /** Most text messages one reply may post; beyond that the full text goes as reply.md. */
  readonly maxMessages: number;
  /** Most attachments on one message, e.g. Discord 10. */
  readonly maxFilesPerMessage: number;
  /** Largest attachment, and largest total of one message's attachments, e.g. the Discord
   *  guild's upload limit (Discord applies it to the whole request). */
  readonly maxFileBytes: number;
}

export interface RenderOptions {
  /** The surface draws tables itself (Slack's table block): each table becomes a message of
   *  its own, its `text` a caption, within these bounds. Absent: tables are aligned text. */
  readonly nativeTables?: NativeTableLimits;
}

export interface RenderedMessage {
  readonly text: string;
  readonly attachments: readonly ReplyAttachment[];
  /** Only with `nativeTables`: the table this message carries, already cut to the bounds. */
  readonly table?: TableData;
}

const MINIMUM: Readonly<Record<keyof RenderLimits, number>> = {
  // Room for a continuation line plus a reopened fence, with text still making progress.
  maxMessageChars: 200,
  maxMessages: 1,
  maxFilesPerMessage: 1,
  maxFileBytes: 0,
};
const CONTINUED = '\n… (continued in reply.md)';

/**
 * The reply as messages, in posting order: the text, the cells' displays (tables, Markdown,
 * JSON), the code that ran, then notices, split to the limits; native tables follow as
 * messages of their own; attachments (images, CSVs, files, code.py, reply.md) ride on the
 * last message, with further groups in messages of their own.
 */
export function renderReply(
  reply: Reply,
  limits: RenderLimits,
  options: RenderOptions = {},
): RenderedMessage[] {
  checkLimits(limits);
  const code = renderCode(
    reply.code.map((cell) => cell.trimEnd()).filter((cell) => cell.trim() !== ''),
    limits.maxMessageChars,
  );
  const { shown, tables } = renderDisplays(reply.displays ?? [], limits, options);
  const candidates = [
    ...reply.images,
    ...shown.attachments,
    ...tables.flatMap((t) => (t.csv === undefined ? [] : [t.csv])),
    ...reply.files,
    ...(code.file ? [code.file] : []),
  ];
  const attachments = candidates.filter((a) => a.content.length <= limits.maxFileBytes);
  // Dropped attachments become notices, so they are rendered before the text is split.
  const notices = [
    ...reply.notices.map((n) => n.trim()).filter((n) => n !== ''),
    ...candidates.filter((a) => !attachments.includes(a)).map((a) => tooBig(a, limits)),
  ];
  const body = [
    reply.text.trim(),
    ...shown.blocks,
    ...code.blocks,
    notices.map((n) => `⚠️ ${n}`).join('\n'),
  ]
    .filter((part) => part !== '')
    .join('\n\n');
  if (body === '' && attachments.length === 0 && tables.length === 0)
    return [{ text: '(no output)', attachments: [] }];

  const full = Buffer.from(body);
  const fullFits = full.length <= limits.maxFileBytes;
  const marker = fullFits
    ? CONTINUED
    : `\n… (truncated: the full reply is ${formatBytes(full.length)}, over the ${formatBytes(limits.maxFileBytes)} upload limit)`;
  const { chunks, overflowed } = splitMessages(body, limits, marker);
  if (overflowed && fullFits) {
    attachments.push({ name: 'reply.md', content: full, mime: 'text/markdown' });
  }

  const groups = groupsOf(attachments, limits.maxFilesPerMessage, limits.maxFileBytes);
  const messages: RenderedMessage[] = [
    ...chunks.map((text) => ({ text, attachments: [] })),
    ...tables.map((t) => ({ text: t.caption, attachments: [], table: t.table })),
  ];
  const last = messages.pop();
  if (last !== undefined) messages.push({ ...last, attachments: groups.shift() ?? [] });
  messages.push(...groups.map((group) => ({ text: '', attachments: group })));
  return messages;
}

/** Displays as Markdown blocks, except tables a surface draws itself (`nativeTables`). */
function renderDisplays(
  displays: readonly ReplyDisplay[],
  limits: RenderLimits,
  options: RenderOptions,
) {
  const native = options.nativeTables;
  const isTable = (d: ReplyDisplay): d is Extract<ReplyDisplay, { kind: 'table' }> =>
    d.kind === 'table';
  if (native === undefined)
    return { shown: displaysAsText(displays, limits.maxMessageChars), tables: [] };
  return {
    shown: displaysAsText(
      displays.filter((d) => !isTable(d)),
      limits.maxMessageChars,
    ),
    tables: displays.filter(isTable).map((d, i) => nativeTable(d, i + 1, native)),
  };
}

function checkLimits(limits: RenderLimits): void {
  for (const key of Object.keys(MINIMUM) as (keyof RenderLimits)[]) {
    const value = limits[key];
    if (!(value >= MINIMUM[key]) || !(Number.isInteger(value) || value === Infinity)) {
      throw new RangeError(`${key} must be a whole number of at least ${MINIMUM[key]}`);
    }
  }
}

function tooBig(attachment: ReplyAttachment, limits: RenderLimits): string {
  const size = formatBytes(attachment.content.length);
  const limit = formatBytes(limits.maxFileBytes);
  return `${attachment.name} (${size}) is over the ${limit} upload limit and was not attached`;
}

/** Fenced blocks, one per cell; when any is cut to fit a message, code.py holds all of it. */
function renderCode(cells: readonly string[], limit: number) {
  const blocks = cells.map((cell) => codeBlock(cell, limit));
  if (!blocks.some((block) => block.truncated)) return { blocks: blocks.map((b) => b.text) };
  const source =
    cells.length === 1
      ? `${cells[0] ?? ''}\n`
      : cells.map((cell, i) => `# --- cell ${i + 1} ---\n${cell}\n`).join('\n');
  const file = { name: 'code.py', content: Buffer.from(source), mime: 'text/x-python' };
  return { blocks: blocks.map((b) => b.text), file };
}

function codeBlock(code: string, limit: number): { text: string; truncated: boolean } {
  // A fence longer than any backtick run in the code, so the code cannot close it early.
  const longestRun = (code.match(/`{3,}/g) ?? []).reduce((n, run) => Math.max(n, run.length), 2);
  const fence = '`'.repeat(longestRun + 1);
  const whole = `${fence}python\n${code}\n${fence}`;
  if (whole.length <= limit) return { text: whole, truncated: false };

  const lines = code.split('\n');
  const tail = (more: number) => `\n${fence}\n… (${more} more line${more === 1 ? '' : 's'})`;
  let budget = limit - `${fence}python\n`.length - tail(lines.length).length;
  const shown: string[] = [];
  for (const line of lines) {
    if (line.length + 1 > budget) break;
    shown.push(line);
    budget -= line.length + 1;
  }
  // A first line longer than a message is cut rather than showing an empty block.
  if (shown.length === 0) {
    const first = lines[0] ?? '';
    shown.push(`${first.slice(0, safeCut(first, Math.max(0, budget - 1)))}…`);
  }
  return {
    text: `${fence}python\n${shown.join('\n')}${tail(lines.length - shown.length)}`,
    truncated: true,
  };
}

/** A fenced block in the body: the opener and closer lines and where its content starts. */
interface Fence {
  readonly openStart: number;
  readonly contentStart: number;
  readonly closeStart: number;
  readonly closeEnd: number;
  readonly opener: string;
  readonly closer: string;
}

/**
 * The fenced blocks markdown-it finds, located in `body`. Only fences whose marker starts the
 * line (as a reader of the raw text sees one) are reopened across messages; a fence behind a
 * quote or list marker cannot be reopened by a bare marker line.
 */
function findFences(body: string): Fence[] {
  const lines = lineSpans(body);
  const fences: Fence[] = [];
  for (const token of parseMarkdown(body)) {
    if (token.type !== 'fence' || token.map === null) continue;
    const [first, end] = token.map;
    const openLine = lines[first];
    const opener = openLine && FENCE_LINE.exec(body.slice(openLine.start, openLine.end));
    if (!openLine || !opener) continue;
    const [, marker = '', info = ''] = opener;
    const lastLine = end - 1 > first ? lines[end - 1] : undefined;
    const closed =
      lastLine !== undefined && isCloser(body.slice(lastLine.start, lastLine.end), marker);
    fences.push({
      openStart: openLine.start,
      contentStart: lines[first + 1]?.start ?? body.length,
      // An unclosed fence runs to the end, as a reader of the raw text would take it.
      closeStart: closed ? lastLine.start : body.length,
      closeEnd: closed ? lastLine.end : body.length,
      opener: marker + info.trim(),
      closer: marker,
    });
  }
  return fences;
}

const FENCE_LINE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

function isCloser(line: string, marker: string): boolean {
  const match = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
  const closing = match?.[1] ?? '';
  return closing[0] === marker[0] && closing.length >= marker.length;
}

/** Where each line of `body` starts and ends, counting line breaks as markdown-it does. */
function lineSpans(body: string): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  let start = 0;
  for (const match of body.matchAll(/\r\n?|\n/g)) {
    spans.push({ start, end: match.index });
    start = match.index + match[0].length;
  }
  spans.push({ start, end: body.length });
  return spans;
}

/** The fence a message starting or ending at `at` would be inside of. */
function fenceAt(fences: readonly Fence[], at: number): Fence | undefined {
  return fences.find((f) => f.contentStart <= at && at <= f.closeStart);
}

function splitMessages(body: string, limits: RenderLimits, marker: string) {
  const fences = findFences(body);
  const chunks: string[] = [];
  for (let pos = 0; pos < body.length;) {
    const piece = cutChunk(body, fences, pos, limits.maxMessageChars);
    if (piece.end < body.length && chunks.length === limits.maxMessages - 1) {
      const last = cutChunk(body, fences, pos, limits.maxMessageChars - marker.length);
      chunks.push(last.text + marker);
      return { chunks, overflowed: true };
    }
    chunks.push(piece.text);
    pos = piece.end;
  }
  return { chunks, overflowed: false };
}

/**
 * The next message from `pos`: a fence left open by the previous message is reopened, and
 * one this message leaves open is closed, both within `limit`.
 */
function cutChunk(body: string, fences: readonly Fence[], pos: number, limit: number) {
  const reopened = fenceAt(fences, pos);
  const prefix = reopened ? `${reopened.opener}\n` : '';
  if (prefix.length + body.length - pos <= limit) {
    return { text: prefix + body.slice(pos), end: body.length };
  }
  // The closer's length depends on where the cut lands, so reserve room and retry if short.
  for (let reserve = 0; prefix.length + reserve <= limit / 2;) {
    const end = clearOfMarkers(
      fences,
      pos,
      findCut(body, pos, pos + limit - prefix.length - reserve),
    );
    const inside = fenceAt(fences, end);
    if (!inside) return { text: prefix + body.slice(pos, end), end };
    // The real closing line is next: take it rather than adding a copy and an empty reopen.
    if (end === inside.closeStart && prefix.length + inside.closeEnd - pos <= limit) {
      return { text: prefix + body.slice(pos, inside.closeEnd), end: inside.closeEnd };
    }
    const suffix = `${body[end - 1] === '\n' ? '' : '\n'}${inside.closer}`;
    if (suffix.length <= reserve) return { text: prefix + body.slice(pos, end) + suffix, end };
    reserve = suffix.length;
  }
  // Only with an absurdly long fence info string: cut plainly rather than exceed the limit.
  const end = findCut(body, pos, pos + limit);
  return { text: body.slice(pos, end), end };
}

/** Cutting inside a fence line would leave half a marker in each message. */
function clearOfMarkers(fences: readonly Fence[], pos: number, end: number): number {
  for (const f of fences) {
    if (f.openStart > pos && f.openStart < end && end <= f.contentStart) return f.openStart;
    if (f.closeStart > pos && f.closeStart < end && end < f.closeEnd) return f.closeStart;
  }
  return end;
}

/** Where to end a message that may reach `max`: paragraph, line, space, or a hard cut. */
function findCut(body: string, pos: number, max: number): number {
  const window = body.slice(pos, max);
  for (const separator of ['\n\n', '\n', ' ']) {
    const at = window.lastIndexOf(separator);
    // A break early in the window makes many short messages; a weaker break later reads better.
    if (at >= 0 && at + separator.length >= window.length / 2) return pos + at + separator.length;
  }
  return hardCut(body, pos, max);
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function hardCut(body: string, pos: number, max: number): number {
  // Keep a grapheme ("👍🏽", a flag) whole, looking back only a little for its start.
  const from = Math.max(pos, max - 32);
  let boundary = pos;
  for (const { index } of graphemes.segment(body.slice(from, max + 16))) {
    if (from + index > max) break;
    if (from + index > pos) boundary = from + index;
  }
  return safeCut(body, boundary > pos ? boundary : max);
}

/** `at`, or one before it when `at` would split a surrogate pair. */
function safeCut(text: string, at: number): number {
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff ? at - 1 : at;
}

/**
 * Attachments in posting order, at most `size` per message and at most `maxBytes` together:
 * platforms such as Discord apply the upload limit to the whole request, not to each file.
 */
function groupsOf(
  items: readonly ReplyAttachment[],
  size: number,
  maxBytes: number,
): ReplyAttachment[][] {
  const groups: ReplyAttachment[][] = [];
  let current: ReplyAttachment[] = [];
  let bytes = 0;
  for (const item of items) {
    const length = item.content.length;
    if (current.length > 0 && (current.length >= size || bytes + length > maxBytes)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += length;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
