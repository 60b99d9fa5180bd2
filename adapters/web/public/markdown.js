/* global document, window */
// Markdown and code for the playground page, rendered by libraries rather than by hand:
// markdown-it (the parser the server uses too) with HTML off, and highlight.js. Both are
// served from node_modules by the bot (see static-files.ts), never from a CDN.
import markdownit from '/vendor/markdown-it.mjs';
import hljs from '/vendor/highlight.mjs';

/** Web and mail links only: javascript:, data: and friends stay plain text. */
const isWebLink = (url) => /^(https?:\/\/|mailto:)/i.test(url.trim());

/**
 * Blocks nested deeper than this are shown as the text they were written as (class md-plain):
 * markdown-it would drop everything past its own nesting limit, and a hostile answer must
 * neither vanish nor break the page. The server's parser does the same (src/render/markdown.ts).
 */
const MAX_BLOCK_LEVEL = 16;

const md = markdownit({ html: false, linkify: true, typographer: false, highlight });
md.validateLink = isWebLink;
// Only what says http(s):// becomes a link, not every word with a dot in it.
md.linkify.set({ fuzzyLink: false, fuzzyEmail: false });
const { escapeHtml } = md.utils;

md.block.ruler.before('table', 'md_plain', (state, startLine, endLine, silent) => {
  if (state.level < MAX_BLOCK_LEVEL) return false;
  if (silent) return true;
  const token = state.push('md_plain', 'p', 0);
  token.content = state.getLines(startLine, endLine, state.blkIndent, false).replace(/\n$/, '');
  token.block = true;
  state.line = endLine;
  return true;
});
md.renderer.rules.md_plain = (tokens, idx) =>
  `<p class="md-plain">${escapeHtml(tokens[idx].content)}</p>\n`;

// Chat answers sit inside a page: their # starts at h3.
md.core.ruler.push('nested_headings', (state) => {
  for (const token of state.tokens) {
    if (token.type === 'heading_open' || token.type === 'heading_close') {
      token.tag = `h${Math.min(Number(token.tag.slice(1)) + 2, 6)}`;
    }
  }
});

md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx].attrSet('target', '_blank');
  tokens[idx].attrSet('rel', 'noopener noreferrer');
  return self.renderToken(tokens, idx, options);
};

// An image becomes a link to it: the CSP shows no other site's images (and no tracking pixel).
md.renderer.rules.image = (tokens, idx) => {
  const token = tokens[idx];
  const src = token.attrGet('src') ?? '';
  const label = escapeHtml(token.content || src);
  return `<a href="${escapeHtml(src)}" target="_blank" rel="noopener noreferrer">${label}</a>`;
};

// Table alignment as a class: the CSP refuses style attributes.
for (const type of ['th_open', 'td_open']) {
  md.renderer.rules[type] = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    const align = /text-align:(left|center|right)/.exec(token.attrGet('style') ?? '')?.[1];
    token.attrs = (token.attrs ?? []).filter(([name]) => name !== 'style');
    if (align) token.attrJoin('class', `align-${align}`);
    return self.renderToken(tokens, idx, options);
  };
}

/** markdown-it's fence hook: highlighted HTML (escaped by highlight.js), or '' to escape. */
function highlight(code, language) {
  if (!language || !hljs.getLanguage(language)) return '';
  return hljs.highlight(code, { language, ignoreIllegals: true }).value;
}

/**
 * The one way HTML enters the page (the CSP requires Trusted Types): markup built by
 * markdown-it and highlight.js from escaped text. Nothing else may create this policy.
 */
const policy = window.trustedTypes?.createPolicy('markdown', { createHTML: (html) => html }) ?? {
  createHTML: (html) => html,
};

/** Parsed in an inert template: nothing in it runs or loads until it is in the page. */
function fragmentOf(html) {
  const template = document.createElement('template');
  template.innerHTML = policy.createHTML(html);
  return template.content;
}

/** `text` as Markdown, as DOM nodes; text the renderer cannot take is shown as it is. */
export function renderMarkdown(text) {
  try {
    return fragmentOf(md.render(text));
  } catch {
    const plain = document.createElement('p');
    plain.className = 'md-plain';
    plain.textContent = text;
    return plain;
  }
}

/** A <pre> block of `code`, highlighted when highlight.js knows `language`. */
export function codeBlock(code, language) {
  const block = document.createElement('code');
  const html = highlight(code, language);
  if (html === '') block.textContent = code;
  else block.append(fragmentOf(html));
  block.className = `language-${language}`;
  const pre = document.createElement('pre');
  pre.append(block);
  return pre;
}
