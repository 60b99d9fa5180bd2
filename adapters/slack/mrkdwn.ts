/**
 * Markdown (what the model and the core write) to Slack's mrkdwn. Slack does not render
 * CommonMark: `**bold**` shows its asterisks, `[text](url)` stays literal, a fence's language
 * tag shows as a first line of code, and `&`, `<`, `>` must be escaped or Slack reads them as
 * markup. Only what chat answers actually use is converted; anything else passes through.
 */

/** Slack's three control characters, escaped as its docs ask (inside code too). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const TABLE_ROW = /^\s*\|.*\|\s*$/;

export function markdownToMrkdwn(markdown: string): string {
  const lines = markdown.split('\n');
  const out: string[] = [];
  let fence: string | undefined;
  let table: string[] = [];
  const flushTable = () => {
    // Slack has no tables; a monospaced block keeps the columns lined up.
    if (table.length > 0) out.push('```', ...table.map(escapeMrkdwn), '```');
    table = [];
  };

  for (const line of lines) {
    const marker = FENCE.exec(line);
    if (fence !== undefined) {
      if (marker?.[1]?.startsWith(fence) === true && (marker[2] ?? '').trim() === '') {
        out.push('```');
        fence = undefined;
      } else {
        out.push(escapeMrkdwn(line));
      }
      continue;
    }
    if (marker !== null && !(marker[1]?.startsWith('`') === true && marker[2]?.includes('`'))) {
      flushTable();
      // Slack knows only ``` fences and would show the language tag as code.
      fence = marker[1];
      out.push('```');
      continue;
    }
    if (TABLE_ROW.test(line)) {
      table.push(line.trim());
      continue;
    }
    flushTable();
    out.push(convertLine(line));
  }
  flushTable();
  if (fence !== undefined) out.push('```');
  return out.join('\n');
}

function convertLine(line: string): string {
  const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
  if (heading !== null) return `*${convertInline(heading[1] ?? '')}*`;
  const bullet = /^(\s*)[-*+]\s+(.*)$/.exec(line);
  if (bullet !== null && !/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
    return `${bullet[1] ?? ''}• ${convertInline(bullet[2] ?? '')}`;
  }
  const quote = /^(\s*>\s?)(.*)$/.exec(line);
  if (quote !== null) return `> ${convertInline(quote[2] ?? '')}`;
  return convertInline(line);
}

/** Inline code is kept verbatim (escaped only); formatting is converted around it. */
function convertInline(text: string): string {
  const parts = text.split(/(`[^`\n]+`)/);
  return parts
    .map((part, index) => (index % 2 === 1 ? escapeMrkdwn(part) : convertFormatting(part)))
    .join('');
}

/** Private-use characters stand in for converted bold and links while the rest converts. */
const BOLD_MARK = '\uE000';
const LINK_MARK = '\uE001';

function convertFormatting(text: string): string {
  let out = text;
  // Links first, while the URL is still raw: Slack's form is <url|label>.
  const links: string[] = [];
  out = out.replace(
    /!?\[([^\]\n]*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g,
    (match: string, label: string, url: string) => {
      // Only web and mail links become <url|label>: `<!channel|x>` or `<@U123|x>` would
      // ping people, and model output (maybe steered by an uploaded file) must never do that.
      if (!/^(https?:\/\/|mailto:)/i.test(url)) return match;
      const link = `<${escapeMrkdwn(url).replace(/\|/g, '%7C')}|${escapeMrkdwn(label || url)}>`;
      links.push(link);
      return `${LINK_MARK}${links.length - 1}${LINK_MARK}`;
    },
  );
  out = escapeMrkdwn(out);
  out = out.replace(/(\*\*|__)(?=\S)([^\n]*?\S)\1/g, `${BOLD_MARK}$2${BOLD_MARK}`);
  out = out.replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/g, '$1_$2_');
  out = out.replace(/~~(?=\S)([^\n]*?\S)~~/g, '~$1~');
  out = out.replace(new RegExp(BOLD_MARK, 'g'), '*');
  return out.replace(
    new RegExp(`${LINK_MARK}(\\d+)${LINK_MARK}`, 'g'),
    (_match, index: string) => links[Number(index)] ?? '',
  );
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
