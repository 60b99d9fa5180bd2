import { isWebLink } from '../../src/render/markdown.ts';

/**
 * The model's text made safe for a streamed message (`markdown_text`), piece by piece, with the
 * rule the posted answer follows (mrkdwn.ts): no Slack special sequence (`<!channel>`,
 * `<@U…>`, `<url|label>`) can come from model or user text, and only web and mail links become
 * links. A `<` is followed by an invisible U+200B, which breaks every special sequence and
 * reads the same; a Markdown link whose target is not http(s) or mailto is shown as its label.
 * A link still being written (an open `[` near the end) is held back until it is complete,
 * so a piece never carries half of a link that a later piece would make unsafe.
 */
export class StreamMarkdown {
  private held = '';

  /** What may be sent now of the text so far. */
  push(delta: string): string {
    const text = this.held + delta;
    const open = openLinkAt(text);
    this.held = open < 0 ? '' : text.slice(open);
    return safe(open < 0 ? text : text.slice(0, open));
  }

  /** The rest, at the end of the answer. */
  flush(): string {
    const rest = safe(this.held);
    this.held = '';
    return rest;
  }
}

/** `[label](target)`, the target with at most one level of balanced parentheses, as
 *  CommonMark allows (`javascript:alert(1)`). */
const LINK = /\[([^\]\n]*)\]\(((?:[^()\n]|\([^()\n]*\))*)\)/;

/** Longest stretch held back for one link; past it the text goes out as it is (made safe). */
const MAX_HELD_CHARS = 400;

/** Where an unfinished link starts (a `[` with no `)` closing it yet), or -1. */
function openLinkAt(text: string): number {
  const at = text.lastIndexOf('[');
  if (at < 0 || text.length - at > MAX_HELD_CHARS) return -1;
  const tail = text.slice(at);
  // Finished: `[label](target)`; or not a link after all: `[label]` then something else.
  if (new RegExp(`^${LINK.source}`).test(tail)) return -1;
  if (/^\[[^\]\n]*\][^(]/.test(tail) || tail.includes('\n')) return -1;
  return at;
}

/** Whole Markdown made safe for Slack by the same rule (a posted answer's markdown block). */
export function safeMarkdown(text: string): string {
  return safe(text);
}

function safe(text: string): string {
  return text
    .replace(new RegExp(LINK.source, 'g'), (link, label: string, target: string) =>
      isWebLink(target.trim().split(/\s+/)[0] ?? '') ? link : label,
    )
    .replaceAll('<', '<\u200B');
}
