import type { RichResult } from '../core/cell-result.ts';

/** A display of a reply before its CSV is fetched (see cell-reply.ts). */
export type ResultDisplay =
  | { readonly kind: 'table'; readonly result: RichResult }
  | { readonly kind: 'markdown' | 'json' | 'latex'; readonly text: string };

/** Beyond this a JSON display is cut: a code block for a person, not a data export. */
const MAX_JSON_CHARS = 4000;
const MAX_MARKDOWN_CHARS = 8000;

/**
 * Whether the user sees a rich result, and as what. In direct code every result is the
 * user's. In a model turn the value of a cell's last expression (`execute_result`) is the
 * model's look at the data, as in a notebook the model reads; what the code `display()`s, and
 * every figure and image, is shown to the user (the system prompt says so). HTML is never
 * shown as HTML anywhere: a DataFrame travels as table data, anything else as its text form.
 */
export function shownAs(
  result: RichResult,
  direct: boolean,
): { image: boolean; display?: ResultDisplay; plainText: boolean } {
  const forUser = direct || result.kind === 'display_data';
  // A formula the sandbox drew is an image of a value: the model's unless displayed.
  const drawnFormula = result.image !== undefined && result.data['text/latex'] !== undefined;
  if (result.image !== undefined) return { image: forUser || !drawnFormula, plainText: false };
  if (!forUser) return { image: false, plainText: false };
  if (result.table !== undefined)
    return { image: false, display: { kind: 'table', result }, plainText: false };
  const markdown = result.data['text/markdown'];
  if (markdown !== undefined && markdown.trim() !== '')
    return {
      image: false,
      display: { kind: 'markdown', text: cut(markdown, MAX_MARKDOWN_CHARS) },
      plainText: false,
    };
  const latex = result.data['text/latex'];
  if (latex !== undefined && latex.trim() !== '')
    return {
      image: false,
      display: { kind: 'latex', text: cut(latex.trim(), MAX_MARKDOWN_CHARS) },
      plainText: false,
    };
  const json = result.data['application/json'];
  if (json !== undefined)
    return { image: false, display: { kind: 'json', text: prettyJson(json) }, plainText: false };
  return { image: false, plainText: direct };
}

function prettyJson(text: string): string {
  let pretty = text;
  try {
    pretty = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // Not JSON after all: shown as it came.
  }
  return cut(pretty, MAX_JSON_CHARS);
}

function cut(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}\n… (cut)`;
}
