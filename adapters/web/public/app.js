/* global document, window, fetch, EventSource, location, history, confirm */
// The sandbot playground page: plain DOM, no framework, no build step. Every piece of user or
// model text reaches the page through textContent, or as Markdown rendered by markdown-it with
// HTML off (markdown.js), so nothing a message says can become markup; the
// Content-Security-Policy, with Trusted Types, is the second line.
import { renderMarkdown } from './markdown.js';
import { botMessage, el, formatBytes, userMessage } from './message-view.js';

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
  // The open thread may be gone from the list the bot gives (another bot, another data dir).
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

function renderProgress() {
  const box = $('progress');
  box.hidden = pendingCount() === 0;
  box.replaceChildren(state.progress ? renderMarkdown(state.progress) : el('p', {}, '⏳ Working…'));
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

boot().catch((error) => {
  document.body.replaceChildren(
    el('p', { className: 'error' }, `The playground could not start: ${error.message}`),
  );
});
