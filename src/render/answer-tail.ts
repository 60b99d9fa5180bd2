/** A line opening or closing a Markdown code block. */
const FENCE_LINE = /^ {0,3}(`{3,}|~{3,})/gm;
/** After the ellipsis, when the cut falls inside a code block. */
const REOPEN = '\n```\n';
const CLOSE = '\n```';

/**
 * The end of an answer still being written, cut to fit a status message: the newest words
 * matter most, and a leading ellipsis says the start is missing. Code blocks stay balanced: a
 * cut inside one reopens it, and one still being written is closed, so a partial code block
 * never turns the prose after it into code (or the code into prose).
 */
export function answerTail(text: string, maxChars: number): string {
  const closing = insideCodeBlock(text) ? CLOSE : '';
  if (text.length + closing.length <= maxChars) return text + closing;
  const room = maxChars - 1 - closing.length;
  let start = cutAt(text, room);
  const reopen = insideCodeBlock(text.slice(0, start)) ? REOPEN : '';
  if (reopen !== '') start = cutAt(text, room - reopen.length);
  if (start >= text.length) return maxChars > 0 ? '…' : '';
  return `…${reopen}${text.slice(start)}${closing}`.slice(0, maxChars);
}

/** Where to cut so `room` characters are left, never between the halves of an emoji. */
function cutAt(text: string, room: number): number {
  const start = text.length - Math.max(0, room);
  return /[\uDC00-\uDFFF]/.test(text.charAt(start)) ? start + 1 : start;
}

/** Whether text ends inside a code block: an odd number of fence lines. */
function insideCodeBlock(text: string): boolean {
  return (text.match(FENCE_LINE)?.length ?? 0) % 2 === 1;
}
