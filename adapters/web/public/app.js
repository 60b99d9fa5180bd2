/* global document, window, fetch, EventSource, location, history, confirm */
// The sandbot playground page: plain DOM, no framework, no build step. Every piece of user or
// model text reaches the page through textContent or text nodes, never innerHTML, so nothing
// a message says can become markup (the Content-Security-Policy is the second line).

const $ = (id) => document.getElementById(id);
/** The hint shown in an empty thread; kept so it can be put back after a thread is cleared. */
const EMPTY_HINT = $('empty');

const state = {
  info: undefined,
  threads: [],
  /** @type {string | undefined} */
  current: undefined,
  /** Item ids shown in the open thread (the POST answer and the event stream both bring them). */
  shown: new Set(),
  /** Uploads waiting for the next message: { id, name, sizeBytes }. */
  uploads: [],
  /** Set while a thread is fetched: its items that arrive meanwhile, shown after. */
  loading: undefined,
  progress: null,
  /** @type {EventSource | undefined} */
  events: undefined,
};

// ---------------------------------------------------------------- API

async function api(method, path, body, headers = {}) {
  const init = { method, headers: { 'x-sandbot-request': '1', ...headers } };
  if (body !== undefined) {
    if (body instanceof window.Blob) init.body = body;
    else {
      init.body = JSON.stringify(body);
      init.headers['content-type'] = 'application/json';
    }
  }
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 && path !== '/api/login') showLogin();
  if (!response.ok) throw new Error(data.error || `${method} ${path}: ${response.status}`);
  return data;
}

// ---------------------------------------------------------------- start-up and login

async function boot() {
  state.info = await api('GET', '/api/info');
  if (state.info.authRequired && !state.info.authenticated) return showLogin();
  $('login').hidden = true;
  $('app').hidden = false;
  showBanner();
  connectEvents();
  await loadThreads();
  const wanted = location.hash.slice(1);
  const first = state.threads.find((t) => t.id === wanted) || state.threads[0];
  if (first) await openThread(first.id);
  else renderHeader();
  $('input').focus();
}

function showLogin() {
  $('app').hidden = true;
  $('login').hidden = false;
  $('token').focus();
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('login-error').textContent = '';
  try {
    await api('POST', '/api/login', { token: $('token').value });
    $('token').value = '';
    await boot();
  } catch (error) {
    $('login-error').textContent = error.message;
  }
});

function showBanner() {
  const banner = $('banner');
  banner.replaceChildren();
  if (state.info.model.configured) {
    banner.hidden = true;
    return;
  }
  banner.hidden = false;
  banner.append(
    renderMarkdown(
      '**No model is configured**, so only code runs: send a ```` ```python ```` block or ' +
        '`run print(1)`. To chat, set `OPENAI_API_KEY` (and `OPENAI_MODEL`), or ' +
        '`OPENAI_BASE_URL` for a compatible server such as Ollama, then restart `sandbot start`.',
    ),
  );
}

// ---------------------------------------------------------------- live events

function connectEvents() {
  if (state.events) return;
  const events = new EventSource('/api/events');
  state.events = events;
  // After a reconnect, whatever was missed is fetched again.
  let opened = false;
  events.addEventListener('open', () => {
    if (opened) refresh().catch((error) => ($('composer-error').textContent = error.message));
    opened = true;
  });
  events.addEventListener('message', (message) => {
    const event = JSON.parse(message.data);
    if (event.type === 'thread') upsertThread(event.thread);
    else if (event.type === 'item') {
      if (event.threadId === state.current) addItem(event.item);
      if (event.threadId === state.loading?.id) state.loading.items.push(event.item);
    } else if (event.type === 'progress' && event.threadId === state.current) {
      state.progress = event.text;
      renderProgress();
    }
  });
}

async function refresh() {
  await loadThreads();
  if (!state.current) return;
  // A restarted bot has forgotten its threads (they live in its memory).
  if (state.threads.some((t) => t.id === state.current)) await openThread(state.current);
  else closeThread();
}

// ---------------------------------------------------------------- threads

async function loadThreads() {
  const { threads } = await api('GET', '/api/threads');
  state.threads = threads.map((thread) => {
    const known = state.threads.find((t) => t.id === thread.id);
    return known && known.version > thread.version ? known : thread;
  });
  renderThreadList();
}

function upsertThread(thread) {
  if (!mergeThread(thread)) return;
  renderThreadList();
  if (thread.id === state.current) {
    renderHeader();
    renderProgress();
  }
}

/** Copies from the event stream and from HTTP answers can cross: the newer version wins. */
function mergeThread(thread) {
  const known = state.threads.find((t) => t.id === thread.id);
  if (known && known.version > thread.version) return false;
  state.threads = [thread, ...state.threads.filter((t) => t.id !== thread.id)].sort(
    (a, b) => b.updatedAt - a.updatedAt,
  );
  return true;
}

/** Messages of the open thread still waiting for an answer. */
function pendingCount() {
  return state.threads.find((t) => t.id === state.current)?.pending ?? 0;
}

function renderThreadList() {
  const list = $('thread-list');
  list.replaceChildren(
    ...state.threads.map((thread) => {
      const button = el('button', { type: 'button', title: thread.title });
      button.setAttribute('aria-current', String(thread.id === state.current));
      if (thread.pending > 0) button.append(el('span', { className: 'busy-dot' }));
      button.append(thread.title);
      button.addEventListener('click', () => void openThread(thread.id));
      return el('li', {}, button);
    }),
  );
}

async function openThread(id) {
  const loading = { id, items: [] };
  state.loading = loading;
  let thread;
  try {
    thread = (await api('GET', `/api/threads/${encodeURIComponent(id)}`)).thread;
  } finally {
    if (state.loading === loading) state.loading = undefined;
  }
  if (state.current !== id) state.uploads = [];
  state.current = id;
  history.replaceState(null, '', `#${id}`);
  state.shown = new Set();
  state.progress = thread.progress ?? null;
  const { title, createdAt, updatedAt, pending, version } = thread;
  mergeThread({ id, title, createdAt, updatedAt, pending, version });
  const messages = $('messages');
  messages.replaceChildren(EMPTY_HINT);
  EMPTY_HINT.hidden = false;
  for (const item of [...thread.items, ...loading.items]) addItem(item, false);
  renderThreadList();
  renderHeader();
  renderProgress();
  renderUploads();
  messages.scrollTop = messages.scrollHeight;
}

function closeThread() {
  state.current = undefined;
  state.uploads = [];
  history.replaceState(null, '', location.pathname);
  $('messages').replaceChildren(EMPTY_HINT);
  EMPTY_HINT.hidden = false;
  renderThreadList();
  renderHeader();
  renderProgress();
  renderUploads();
}

async function ensureThread() {
  if (state.current) return state.current;
  const { thread } = await api('POST', '/api/threads');
  upsertThread(thread);
  await openThread(thread.id);
  return thread.id;
}

$('new-thread').addEventListener('click', async () => {
  const { thread } = await api('POST', '/api/threads');
  upsertThread(thread);
  await openThread(thread.id);
  $('input').focus();
});

function renderHeader() {
  const thread = state.threads.find((t) => t.id === state.current);
  $('thread-title').textContent = thread?.title ?? 'New thread';
  $('stop').hidden = pendingCount() === 0;
}

// ---------------------------------------------------------------- messages

function addItem(item, scroll = true) {
  if (state.shown.has(item.id)) return;
  state.shown.add(item.id);
  const messages = $('messages');
  const nearBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 80;
  EMPTY_HINT.hidden = true;
  messages.append(item.kind === 'user' ? userMessage(item) : botMessage(item));
  if (scroll && nearBottom) messages.scrollTop = messages.scrollHeight;
}

function userMessage(item) {
  const node = el('article', { className: 'msg user' }, el('div', { className: 'author' }, 'you'));
  node.dataset.id = item.id;
  if (item.text.trim() !== '') node.append(markdownBlock(item.text));
  if (item.attachments.length > 0) node.append(fileChips(item.attachments));
  return node;
}

function botMessage(item) {
  const node = el(
    'article',
    { className: 'msg bot' },
    el('div', { className: 'author' }, 'sandbot'),
  );
  node.dataset.id = item.id;
  if (item.text.trim() !== '') node.append(markdownBlock(item.text));
  if (item.code.length > 0) {
    const details = el('details', { className: 'code-ran' });
    const label =
      item.code.length === 1 ? 'Code that ran' : `Code that ran (${item.code.length} cells)`;
    details.append(el('summary', {}, label));
    for (const code of item.code)
      details.append(el('div', { className: 'code-cell' }, codeBlock(code, 'python')));
    node.append(details);
  }
  if (item.images.length > 0) {
    const images = el('div', { className: 'images' });
    for (const image of item.images) {
      const img = el('img', { src: fileUrl(image), alt: image.name, loading: 'lazy' });
      images.append(el('a', { href: fileUrl(image), target: '_blank', rel: 'noopener' }, img));
    }
    node.append(images);
  }
  if (item.files.length > 0) node.append(fileChips(item.files, 'files'));
  for (const notice of item.notices)
    node.append(el('div', { className: 'notice' }, `⚠️ ${notice}`));
  return node;
}

function fileChips(files, className = 'attachments') {
  const list = el('ul', { className: `chips ${className}` });
  for (const file of files) {
    const link = el('a', { href: `${fileUrl(file)}?download`, download: file.name }, file.name);
    list.append(el('li', {}, link, ` (${formatBytes(file.sizeBytes)})`));
  }
  return list;
}

function fileUrl(file) {
  return `/api/files/${encodeURIComponent(file.id)}`;
}

function renderProgress() {
  const box = $('progress');
  box.hidden = pendingCount() === 0;
  box.replaceChildren(state.progress ? renderMarkdown(state.progress) : el('p', {}, '⏳ Working…'));
}

function markdownBlock(text) {
  const block = el('div', { className: 'markdown' });
  block.append(renderMarkdown(text));
  return block;
}

// ---------------------------------------------------------------- composer

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  void send($('input').value);
});

$('input').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    void send($('input').value);
  }
});

/** Sends what was typed, with the pending uploads. */
async function send(text) {
  if (text.trim() === '' && state.uploads.length === 0) return;
  $('composer-error').textContent = '';
  try {
    const id = await ensureThread();
    await post(
      id,
      text,
      state.uploads.map((u) => u.id),
    );
    state.uploads = [];
    renderUploads();
    $('input').value = '';
  } catch (error) {
    $('composer-error').textContent = error.message;
  }
}

/** The buttons send the same commands a chat user types, so every surface behaves alike. */
async function command(name) {
  if (!state.current) return;
  $('composer-error').textContent = '';
  try {
    await post(state.current, name, []);
  } catch (error) {
    $('composer-error').textContent = error.message;
  }
}

async function post(threadId, text, uploads) {
  const path = `/api/threads/${encodeURIComponent(threadId)}/messages`;
  const { item, thread } = await api('POST', path, { text, uploads });
  if (threadId === state.current) addItem(item);
  upsertThread(thread);
}

$('file-input').addEventListener('change', async (event) => {
  const input = event.target;
  const files = [...input.files];
  input.value = '';
  $('composer-error').textContent = '';
  try {
    const id = await ensureThread();
    for (const file of files) {
      const path = `/api/threads/${encodeURIComponent(id)}/uploads?name=${encodeURIComponent(file.name)}`;
      const { file: stored } = await api('POST', path, file, {
        'content-type': 'application/octet-stream',
      });
      state.uploads.push(stored);
      renderUploads();
    }
  } catch (error) {
    $('composer-error').textContent = error.message;
  }
});

function renderUploads() {
  $('pending-uploads').replaceChildren(
    ...state.uploads.map((upload) => {
      const remove = el('button', { type: 'button', title: `Remove ${upload.name}` }, '×');
      remove.addEventListener('click', () => {
        state.uploads = state.uploads.filter((u) => u.id !== upload.id);
        renderUploads();
      });
      return el('li', {}, `📎 ${upload.name} (${formatBytes(upload.sizeBytes)})`, remove);
    }),
  );
}

$('stop').addEventListener('click', () => void command('stop'));
$('export').addEventListener('click', () => void command('export'));
$('reset').addEventListener('click', () => {
  if (confirm('Reset this thread? The kernel restarts and /mnt/data is emptied.')) {
    void command('reset');
  }
});

// ---------------------------------------------------------------- small helpers

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'className') node.className = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// ---------------------------------------------------------------- Markdown
// A small CommonMark subset built straight into DOM nodes: fenced code, headings, lists,
// quotes, tables, rules, paragraphs; inline code, emphasis, links (http, https, mailto only).

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const LIST_ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])(?:\s+(.*))?$/;
const TABLE_RULE = /^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$/;

/** Deeper lists and quotes are shown as plain text: a hostile answer must not blow the stack. */
const MAX_NESTING = 12;

function renderMarkdown(text) {
  const fragment = document.createDocumentFragment();
  try {
    renderBlocks(text.replace(/\r\n?/g, '\n').split('\n'), fragment, 0);
  } catch {
    // Whatever the renderer cannot handle is still readable, and never breaks the page.
    const plain = el('p');
    plain.className = 'md-plain';
    plain.textContent = text;
    return plain;
  }
  return fragment;
}

const isBlank = (line) => line === undefined || line.trim() === '';
const indentOf = (line) => /^ */.exec(line)[0].length;

function startsBlock(line, next) {
  return (
    FENCE.test(line) ||
    HEADING.test(line) ||
    RULE.test(line) ||
    QUOTE.test(line) ||
    LIST_ITEM.test(line) ||
    isTableStart(line, next)
  );
}

function isTableStart(line, next) {
  return line.includes('|') && next !== undefined && TABLE_RULE.test(next) && next.includes('-');
}

function renderBlocks(lines, parent, depth) {
  if (depth > MAX_NESTING) {
    const plain = el('p');
    plain.className = 'md-plain';
    plain.textContent = lines.join('\n');
    parent.append(plain);
    return;
  }
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let match;
    if (isBlank(line)) {
      i += 1;
    } else if ((match = FENCE.exec(line))) {
      const close = new RegExp(
        `^ {0,3}${match[1][0] === '`' ? '`' : '~'}{${match[1].length},}\\s*$`,
      );
      const body = [];
      for (i += 1; i < lines.length && !close.test(lines[i]); i += 1) body.push(lines[i]);
      i += 1;
      parent.append(codeBlock(body.join('\n'), match[2].toLowerCase()));
    } else if ((match = HEADING.exec(line))) {
      // Chat answers sit inside a page: their # starts at h3.
      const heading = el(`h${Math.min(match[1].length + 2, 6)}`);
      renderInline(match[2], heading);
      parent.append(heading);
      i += 1;
    } else if (RULE.test(line)) {
      parent.append(el('hr'));
      i += 1;
    } else if (QUOTE.test(line)) {
      const body = [];
      for (; i < lines.length && QUOTE.test(lines[i]); i += 1) body.push(QUOTE.exec(lines[i])[1]);
      const quote = el('blockquote');
      renderBlocks(body, quote, depth + 1);
      parent.append(quote);
    } else if ((match = LIST_ITEM.exec(line))) {
      i = renderList(lines, i, match, parent, depth);
    } else if (isTableStart(line, lines[i + 1])) {
      i = renderTable(lines, i, parent);
    } else {
      const body = [];
      for (
        ;
        i < lines.length &&
        !isBlank(lines[i]) &&
        !(body.length > 0 && startsBlock(lines[i], lines[i + 1]));
        i += 1
      ) {
        body.push(lines[i].trim());
      }
      const paragraph = el('p');
      body.forEach((text, index) => {
        if (index > 0) paragraph.append(el('br'));
        renderInline(text, paragraph);
      });
      parent.append(paragraph);
    }
  }
}

/** Items with their indented continuation lines, each rendered as blocks (nesting included). */
function renderList(lines, start, first, parent, depth) {
  const ordered = /\d/.test(first[2]);
  const list = el(ordered ? 'ol' : 'ul');
  if (ordered && parseInt(first[2], 10) !== 1)
    list.setAttribute('start', String(parseInt(first[2], 10)));
  const base = first[1].length;
  let i = start;
  while (i < lines.length) {
    const match = LIST_ITEM.exec(lines[i]);
    if (!match || match[1].length > base + 1 || /\d/.test(match[2]) !== ordered) break;
    const contentIndent = match[1].length + match[2].length + 1;
    const body = [match[3] ?? ''];
    for (i += 1; i < lines.length; i += 1) {
      const next = lines[i];
      const indent = indentOf(next);
      if (isBlank(next)) {
        if (!isBlank(lines[i + 1]) && indentOf(lines[i + 1]) >= contentIndent) body.push('');
        else break;
      } else if (indent >= Math.min(contentIndent, base + 2)) {
        body.push(next.slice(Math.min(indent, contentIndent)));
      } else if (!LIST_ITEM.test(next) && !startsBlock(next, lines[i + 1])) {
        body.push(next.trim());
      } else break;
    }
    const item = el('li');
    renderBlocks(body, item, depth + 1);
    list.append(item);
    // A blank line between items keeps the list going.
    if (
      isBlank(lines[i]) &&
      LIST_ITEM.test(lines[i + 1] ?? '') &&
      indentOf(lines[i + 1]) <= base + 1
    )
      i += 1;
  }
  parent.append(list);
  return i;
}

function renderTable(lines, start, parent) {
  const cells = (line) =>
    line
      .trim()
      .replace(/^\|/, '')
      .replace(/\|$/, '')
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim().replace(/\\\|/g, '|'));
  const aligns = cells(lines[start + 1]).map((cell) =>
    cell.endsWith(':')
      ? cell.startsWith(':')
        ? 'center'
        : 'right'
      : cell.startsWith(':')
        ? 'left'
        : '',
  );
  const row = (line, tag) => {
    const tr = el('tr');
    cells(line).forEach((text, index) => {
      const cell = el(tag);
      if (aligns[index]) cell.style.textAlign = aligns[index];
      renderInline(text, cell);
      tr.append(cell);
    });
    return tr;
  };
  const table = el('table', {}, el('thead', {}, row(lines[start], 'th')));
  const body = el('tbody');
  let i = start + 2;
  for (; i < lines.length && !isBlank(lines[i]) && lines[i].includes('|'); i += 1)
    body.append(row(lines[i], 'td'));
  table.append(body);
  parent.append(table);
  return i;
}

const INLINE = new RegExp(
  [
    /\\([\\`*_{}[\]()#+\-.!|~>])/.source, // 1: escaped character
    /(`+)([^`]|[^`][\s\S]*?[^`])\2(?!`)/.source, // 2, 3: code span
    /\*\*(\S(?:[\s\S]*?\S)?)\*\*/.source, // 4: strong
    /(?<!\w)__(\S(?:[\s\S]*?\S)?)__(?!\w)/.source, // 5: strong
    /\*([^*\s](?:[\s\S]*?[^*\s])?)\*/.source, // 6: emphasis
    /(?<!\w)_([^_\s](?:[\s\S]*?[^_\s])?)_(?!\w)/.source, // 7: emphasis
    /~~(\S(?:[\s\S]*?\S)?)~~/.source, // 8: strike
    /(!?)\[([^\]\n]*)\]\(\s*<?((?:[^()\s<>]|\([^()\s<>]*\))*)>?(?:\s+"[^"\n]*")?\s*\)/.source, // 9, 10, 11: link
    /(https?:\/\/[^\s<>()]*[^\s<>().,;:!?'"*_])/.source, // 12: bare URL
  ].join('|'),
  'g',
);

function renderInline(text, parent) {
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) parent.append(text.slice(last, match.index));
    last = match.index + match[0].length;
    const [whole, escaped, , code, strong1, strong2, em1, em2, strike, bang, label, href, bare] =
      match;
    if (escaped !== undefined) parent.append(escaped);
    else if (code !== undefined) parent.append(el('code', {}, code.replace(/^ (.*) $/s, '$1')));
    else if (strong1 !== undefined || strong2 !== undefined)
      parent.append(inline('strong', strong1 ?? strong2));
    else if (em1 !== undefined || em2 !== undefined) parent.append(inline('em', em1 ?? em2));
    else if (strike !== undefined) parent.append(inline('del', strike));
    else if (label !== undefined) {
      // Only web and mail links: javascript:, data: and friends stay plain text.
      if (/^(https?:|mailto:)/i.test(href)) {
        const link = el('a', { href, target: '_blank', rel: 'noopener noreferrer' });
        renderInline(label || href, link);
        parent.append(link);
      } else parent.append(bang ? `[${label || 'image'}]` : label);
    } else if (bare !== undefined) {
      parent.append(el('a', { href: bare, target: '_blank', rel: 'noopener noreferrer' }, bare));
    } else parent.append(whole);
  }
  if (last < text.length) parent.append(text.slice(last));
}

function inline(tag, text) {
  const node = el(tag);
  renderInline(text, node);
  return node;
}

// ---------------------------------------------------------------- Python highlighting

const PY_KEYWORDS = new Set(
  'False None True and as assert async await break case class continue def del elif else except finally for from global if import in is lambda match nonlocal not or pass raise return try while with yield'.split(
    ' ',
  ),
);
const PY_BUILTINS = new Set(
  'abs all any bool bytes dict enumerate filter float format getattr hasattr input int isinstance iter len list map max min next object open print range repr reversed round set setattr sorted str sum super tuple type zip'.split(
    ' ',
  ),
);
const PY_TOKEN =
  /(#[^\n]*)|((?:\b[rRbBuUfF]{1,2})?(?:'''[\s\S]*?(?:'''|$)|"""[\s\S]*?(?:"""|$)|'(?:\\.|[^'\\\n])*'?|"(?:\\.|[^"\\\n])*"?))|(\b(?:0[xXoObB][\da-fA-F_]+|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?j?)\b|\.\d+\b)|(@[A-Za-z_][\w.]*)|([A-Za-z_]\w*)/g;

function codeBlock(code, language) {
  const block = el('code');
  if (['python', 'py', 'python3', 'ipython'].includes(language)) highlightPython(code, block);
  else block.textContent = code;
  if (language) block.dataset.language = language;
  return el('pre', {}, block);
}

function highlightPython(code, parent) {
  let last = 0;
  let afterDef = false;
  for (const match of code.matchAll(PY_TOKEN)) {
    if (match.index > last) parent.append(code.slice(last, match.index));
    last = match.index + match[0].length;
    const [text, comment, string, number, decorator, name] = match;
    let kind;
    if (comment !== undefined) kind = 'comment';
    else if (string !== undefined) kind = 'string';
    else if (number !== undefined) kind = 'number';
    else if (decorator !== undefined) kind = 'decorator';
    else if (afterDef) kind = 'def';
    else if (PY_KEYWORDS.has(name)) kind = 'keyword';
    else if (PY_BUILTINS.has(name)) kind = 'builtin';
    afterDef = name === 'def' || name === 'class';
    parent.append(kind ? el('span', { className: `tok-${kind}` }, text) : text);
  }
  if (last < code.length) parent.append(code.slice(last));
}

boot().catch((error) => {
  document.body.replaceChildren(
    el('p', { className: 'error' }, `The playground could not start: ${error.message}`),
  );
});
