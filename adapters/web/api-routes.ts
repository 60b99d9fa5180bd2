import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../src/core/config.ts';
import { mimeFromName } from '../../src/core/mime.ts';
import type { EventHub } from './event-hub.ts';
import {
  contentDisposition,
  readBody,
  readJsonObject,
  SAFE_HEADERS,
  sendError,
  sendJson,
} from './http-io.ts';
import { TOKEN_COOKIE, type RequestGuard } from './request-guard.ts';
import { sendMessage, type SendMessageDeps } from './send-message.ts';
import type { ThreadStore } from './thread-store.ts';

export interface ApiDeps extends SendMessageDeps {
  readonly config: Config;
  readonly guard: RequestGuard;
  readonly hub: EventHub;
  readonly store: ThreadStore;
}

/** A message's text (code included) is small; files travel through the upload route. */
const MAX_MESSAGE_BYTES = 1024 * 1024;
const MAX_NAME_CHARS = 255;
/** Slows guessing: a wrong token costs the guesser this long. */
const FAILED_LOGIN_DELAY_MS = 500;
/** Raster images show inline; anything else (HTML, SVG, scripts) only downloads. */
const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/**
 * The playground's JSON API under /api/. Every route but /api/info and /api/login needs the
 * token when one is set; the guard has already checked host, origin and custom header.
 */
export async function handleApi(
  deps: ApiDeps,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const method = request.method ?? 'GET';
  const parts = url.pathname.split('/').slice(2); // ['', 'api', ...]
  const route = `${method} /${parts.map((p, i) => (i === 1 ? ':id' : p)).join('/')}`;
  const id = parts[1] ?? '';

  if (route === 'GET /info') return info(deps, request, response);
  if (route === 'POST /login') return login(deps, request, response);
  if (!deps.guard.isAuthenticated(request)) {
    // Every route that takes a token answers a wrong one as slowly as the login form does.
    await sleep(FAILED_LOGIN_DELAY_MS);
    sendError(response, 401, 'the playground token is required');
    return;
  }
  switch (route) {
    case 'POST /logout':
      response.setHeader('set-cookie', cookie(''));
      sendJson(response, 200, {});
      return;
    case 'GET /events':
      deps.hub.connect(request, response);
      return;
    case 'GET /threads':
      sendJson(response, 200, { threads: await deps.store.list() });
      return;
    case 'POST /threads':
      sendJson(response, 201, { thread: await deps.store.create() });
      return;
    case 'GET /files/:id':
      return download(deps, response, id, url.searchParams.has('download'));
  }
  const thread = parts[0] === 'threads' ? await deps.store.get(id) : undefined;
  if (thread === undefined) {
    sendError(response, 404, parts[0] === 'threads' ? 'no such thread' : 'no such route');
    return;
  }
  switch (route) {
    case 'GET /threads/:id':
      sendJson(response, 200, { thread });
      return;
    case 'POST /threads/:id/uploads':
      return upload(deps, request, response, id, url.searchParams.get('name') ?? '');
    case 'POST /threads/:id/messages':
      return message(deps, request, response, id);
    default:
      sendError(response, 404, 'no such route');
  }
}

function info(deps: ApiDeps, request: IncomingMessage, response: ServerResponse): void {
  const authenticated = deps.guard.isAuthenticated(request);
  const base = { authRequired: deps.guard.tokenRequired, authenticated };
  if (!authenticated) return sendJson(response, 200, base);
  const { openai, agent, redisUrl } = deps.config;
  const configured = openai.apiKey !== undefined || openai.baseUrl !== undefined;
  sendJson(response, 200, {
    ...base,
    model: { configured, name: configured ? openai.model : null },
    embedded: redisUrl === undefined,
    limits: {
      maxAttachments: agent.maxAttachments,
      maxAttachmentBytes: agent.maxAttachmentBytes,
    },
  });
}

async function login(
  deps: ApiDeps,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const body = await readJsonObject(request, 4096);
  const token = typeof body?.['token'] === 'string' ? body['token'] : '';
  if (!deps.guard.matches(token)) {
    await sleep(FAILED_LOGIN_DELAY_MS);
    sendError(response, 401, 'wrong token');
    return;
  }
  response.setHeader('set-cookie', cookie(token));
  sendJson(response, 200, {});
}

/** HttpOnly so page scripts never see it; SameSite=Strict so other sites never send it. */
function cookie(token: string): string {
  const expiry = token === '' ? '; Max-Age=0' : '';
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict${expiry}`;
}

/**
 * One file per request, raw bytes, named by `?name=`. Within the per-file limit the bytes are
 * kept; beyond it only the size is, and the core refuses the file with its usual message.
 */
async function upload(
  deps: ApiDeps,
  request: IncomingMessage,
  response: ServerResponse,
  threadId: string,
  name: string,
): Promise<void> {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > MAX_NAME_CHARS) {
    sendError(response, 400, `a file name of 1 to ${MAX_NAME_CHARS} characters is required`);
    return;
  }
  const { content, sizeBytes } = await readBody(request, deps.config.agent.maxAttachmentBytes);
  const file = await deps.store.addUpload(threadId, {
    name: trimmed,
    mime: mimeFromName(trimmed),
    sizeBytes,
    content,
  });
  sendJson(response, 201, { file });
}

async function message(
  deps: ApiDeps,
  request: IncomingMessage,
  response: ServerResponse,
  threadId: string,
): Promise<void> {
  const body = await readJsonObject(request, MAX_MESSAGE_BYTES);
  const text = body?.['text'];
  const uploads = body?.['uploads'] ?? [];
  if (
    typeof text !== 'string' ||
    !Array.isArray(uploads) ||
    !uploads.every((u) => typeof u === 'string')
  ) {
    sendError(response, 400, 'expected {"text": string, "uploads": [file id, …]}');
    return;
  }
  if (text.trim() === '' && uploads.length === 0) {
    sendError(response, 400, 'say something or attach a file');
    return;
  }
  const { item, thread } = await sendMessage(deps, threadId, text, uploads);
  sendJson(response, 202, { item, thread });
}

async function download(
  deps: ApiDeps,
  response: ServerResponse,
  fileId: string,
  forceDownload: boolean,
): Promise<void> {
  const file = await deps.store.file(fileId);
  if (file === undefined) {
    sendError(response, 404, 'no such file');
    return;
  }
  const inline = INLINE_TYPES.has(file.mime) && !forceDownload;
  response.writeHead(200, {
    ...SAFE_HEADERS,
    'content-type': file.mime,
    'content-length': file.content.length,
    'content-disposition': contentDisposition(inline ? 'inline' : 'attachment', file.name),
    // Even opened directly, a file can never run script on the playground's origin.
    'content-security-policy': "sandbox; default-src 'none'; img-src 'self'",
    'cache-control': 'private, max-age=86400, immutable',
  });
  response.end(file.content);
}
