/**
 * A fake Slack on loopback for e2e tests and the bench: the Web API methods the bot calls
 * (recorded, form- or JSON-encoded, answering `ok: false` or HTTP 429 with Retry-After on
 * demand), file downloads that need the bot token, the external upload flow
 * (files.getUploadURLExternal → the upload URL here → files.completeUploadExternal), Socket
 * Mode (apps.connections.open → ws:// here, see fake-slack-socket-mode.ts), and `response_url`
 * posts. Signed HTTP requests to the bot are in fake-slack-http-events.ts.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearerToken, parseArgs, readBody, uploadedBytes, type Args } from './fake-slack-body.ts';
import { eventCallback } from './fake-slack-payloads.ts';
import { FakeSocketMode, type Ack, type DeliverOptions } from './fake-slack-socket-mode.ts';
import { FakeSlackSurfaces } from './fake-slack-surfaces.ts';
import {
  FakeWorkspace,
  refuse,
  type ApiAnswer,
  type FakeSlackIds,
} from './fake-slack-workspace.ts';

export interface RecordedCall {
  readonly method: string;
  readonly args: Args;
  readonly token: string | undefined;
  /** HTTP status answered (429 when rate limited). */
  readonly status: number;
  readonly ok: boolean;
  readonly error: string | undefined;
  /** performance.now() when the call arrived. */
  readonly atMs: number;
}

/** What the next call of a method gets instead of its normal answer. */
export interface ScriptedFailure {
  /** `{ ok: false, error }` with HTTP 200 (Slack's usual refusal). */
  readonly error?: string;
  /** An HTTP status: 429 (with Retry-After) or a 5xx. */
  readonly status?: number;
  /** Seconds for the Retry-After header of a 429. Default 1. Like Slack, the method then
   *  answers 429 to every call until those seconds have passed, so a client that retries too
   *  early is seen as a second 429 in `calls`. */
  readonly retryAfterS?: number;
}

export interface FakeSlack {
  /** Pass as SLACK_API_URL. */
  readonly apiUrl: string;
  readonly ids: FakeSlackIds;
  readonly botToken: string;
  readonly appToken: string;
  readonly signingSecret: string;
  /** Every Web API call, in arrival order. */
  readonly calls: RecordedCall[];
  /** Messages, reactions, hosted files, uploads. */
  readonly workspace: FakeWorkspace;
  /** Home tabs published, modals opened, DMs opened, permalinks (fake-slack-surfaces.ts). */
  readonly surfaces: FakeSlackSurfaces;
  readonly socket: FakeSocketMode;
  /** Bodies POSTed to response_url addresses. */
  readonly responses: unknown[];
  /** A response_url for a slash command or button press. */
  responseUrl(): string;
  /** Hosts a file; returns its object for a message event's `files`. */
  addFile(name: string, content: Buffer, mimetype?: string): Record<string, unknown>;
  /** The next call of `method` fails as described (queued per method). `upload` is the
   *  POST to an upload URL. */
  failNext(method: string, failure: ScriptedFailure): void;
  /**
   * The first call of `method` whose arguments `match` is carried out (the message posted,
   * the upload shared) but never answered, as when the caller dies before Slack's answer
   * reaches it. Resolves with that call.
   */
  withholdAnswer(method: string, match: (args: Args) => boolean): Promise<RecordedCall>;
  /** Delivers one Events API event over Socket Mode; resolves with the app's ack. */
  sendEvent(
    event: Record<string, unknown>,
    options?: DeliverOptions & { readonly eventId?: string },
  ): Promise<{ ack: Ack; body: Record<string, unknown> }>;
  /**
   * The bot token's scopes, sent as Slack sends them: `x-oauth-scopes` on every Web API answer
   * to a call with that token. Default: no header.
   */
  grantScopes(scopes: readonly string[]): void;
  /** Called after every recorded change (call, upload, download). */
  onChange(listener: () => void): () => void;
  /** Resolves with the first truthy value of `check`, evaluated after every change. */
  waitFor<T>(
    check: () => T | undefined | null | false,
    what: string,
    timeoutMs?: number,
  ): Promise<T>;
  close(): Promise<void>;
}

export interface FakeSlackOptions {
  readonly ids?: Partial<FakeSlackIds>;
  /** Spread events over every open Socket Mode connection in turn (several bot processes). */
  readonly spreadEvents?: boolean;
}

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const ids: FakeSlackIds = {
    teamId: 'T0FAKETEAM',
    appId: 'A0FAKEAPP',
    botUserId: 'U0SANDBOT',
    botId: 'B0SANDBOT',
    ...options.ids,
  };
  const botToken = `xoxb-1-fake-${randomUUID().slice(0, 8)}`;
  const appToken = `xapp-1-fake-${randomUUID().slice(0, 8)}`;
  const signingSecret = randomUUID().replace(/-/g, '');
  let host = '';
  const workspace = new FakeWorkspace(ids, () => `http://${host}/`);
  const surfaces = new FakeSlackSurfaces(ids, () => workspace.messages);
  const socket = new FakeSocketMode(ids.appId, options.spreadEvents ?? false);
  const calls: RecordedCall[] = [];
  const responses: unknown[] = [];
  const failures = new Map<string, ScriptedFailure[]>();
  /** performance.now() until which a rate-limited method keeps answering 429. */
  const limitedUntilMs = new Map<string, number>();
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  const changed = () => changes.emit('change');
  const withheld: {
    readonly method: string;
    readonly match: (args: Args) => boolean;
    readonly found: (call: RecordedCall) => void;
  }[] = [];
  /** Responses never to be answered; ended when the fake closes. */
  const unanswered = new Set<ServerResponse>();
  let grantedScopes: readonly string[] | undefined;

  /** Slack names the token's scopes on each answer to it (WebClient reads them). */
  function scopeHeaders(token: string | undefined): Record<string, string> {
    if (grantedScopes === undefined || token !== botToken) return {};
    return { 'x-oauth-scopes': grantedScopes.join(',') };
  }

  function rateLimited(retryAfterS: number): ApiAnswer {
    return {
      status: 429,
      body: { ok: false, error: 'ratelimited' },
      headers: { 'retry-after': String(retryAfterS) },
    };
  }

  function takeFailure(method: string): ApiAnswer | undefined {
    // Within a millisecond counts as passed: clients' timers have millisecond granularity.
    const stillLimitedMs = (limitedUntilMs.get(method) ?? 0) - performance.now();
    if (stillLimitedMs >= 1) return rateLimited(Math.ceil(stillLimitedMs / 1000));
    const failure = failures.get(method)?.shift();
    if (failure === undefined) return undefined;
    if (failure.status === 429) {
      const retryAfterS = failure.retryAfterS ?? 1;
      limitedUntilMs.set(method, performance.now() + retryAfterS * 1000);
      return rateLimited(retryAfterS);
    }
    if (failure.status !== undefined) {
      return { status: failure.status, body: { ok: false, error: 'fatal_error' } };
    }
    return refuse(failure.error ?? 'internal_error');
  }

  async function api(request: IncomingMessage, response: ServerResponse, method: string) {
    const contentType = request.headers['content-type'] ?? '';
    const body = await readBody(request);
    // Stamped once the call is all here, before this fake's own parsing and answering:
    // timing figures (the benches) count the bot's time, not the fake's.
    const arrivedAtMs = performance.now();
    const args = parseArgs(contentType, body);
    const token = bearerToken(request, args);
    const wanted = method === 'apps.connections.open' ? appToken : botToken;
    let answer: ApiAnswer;
    if (token === undefined) answer = refuse('not_authed');
    else if (token !== wanted) answer = refuse('invalid_auth');
    else {
      answer =
        takeFailure(method) ??
        (method === 'apps.connections.open'
          ? { status: 200, body: { ok: true, url: socket.openUrl(host) } }
          : surfaces.handles(method)
            ? surfaces.call(method, args)
            : workspace.call(method, args));
    }
    const error = typeof answer.body.error === 'string' ? answer.body.error : undefined;
    const call: RecordedCall = {
      method,
      args,
      token,
      status: answer.status,
      ok: answer.body.ok === true,
      error,
      atMs: arrivedAtMs,
    };
    calls.push(call);
    const hold = withheld.findIndex((h) => h.method === method && call.ok && h.match(args));
    if (hold >= 0) {
      unanswered.add(response);
      withheld.splice(hold, 1)[0]?.found(call);
    } else {
      send(response, answer.status, answer.body, { ...answer.headers, ...scopeHeaders(token) });
    }
    changed();
  }

  async function upload(request: IncomingMessage, response: ServerResponse, id: string) {
    const bytes = uploadedBytes(request.headers['content-type'] ?? '', await readBody(request));
    const failure = takeFailure('upload');
    const slot = workspace.uploads.get(id);
    if (failure !== undefined || slot === undefined) {
      response.writeHead(failure?.status ?? 404, { 'content-type': 'text/plain' });
      response.end('upload failed');
    } else {
      slot.bytes = bytes;
      response.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${bytes.length}`);
    }
    changed();
  }

  function download(request: IncomingMessage, response: ServerResponse, path: string) {
    const id = /^\/files-pri\/[^/]+-(F[0-9A-Z]+)\//.exec(path)?.[1] ?? '';
    const file = workspace.hostedFiles.get(id);
    if (request.headers.authorization !== `Bearer ${botToken}`) {
      // Slack sends a browser without a valid token to its sign-in page.
      response.writeHead(302, { location: `/signin?redir=${encodeURIComponent(path)}` }).end();
      return;
    }
    if (file === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('file not found');
      return;
    }
    file.downloads += 1;
    response.writeHead(200, {
      'content-type': file.mimetype,
      'content-length': String(file.content.length),
    });
    response.end(file.content);
    changed();
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const method = request.method ?? 'GET';
    if (method === 'POST' && path.startsWith('/api/')) return api(request, response, path.slice(5));
    if (method === 'POST' && path.startsWith('/upload/')) {
      return upload(request, response, path.slice('/upload/'.length));
    }
    if (method === 'GET' && path.startsWith('/files-pri/'))
      return download(request, response, path);
    if (method === 'GET' && path === '/signin') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<html><body>Sign in to Slack</body></html>');
      return;
    }
    if (method === 'POST' && path.startsWith('/response/')) {
      const body = await readBody(request);
      responses.push(JSON.parse(body.toString('utf8') || '{}'));
      send(response, 200, { ok: true });
      changed();
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end(`no route ${method} ${path}`);
  }

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, { ok: false, error: String(error) });
      else response.destroy();
    });
  });
  server.on('upgrade', (request, duplex, head) => {
    if (socket.handles(request)) socket.upgrade(request, duplex, head);
    else duplex.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  function onChange(listener: () => void): () => void {
    changes.on('change', listener);
    return () => changes.off('change', listener);
  }

  function waitFor<T>(
    check: () => T | undefined | null | false,
    what: string,
    timeoutMs = 30_000,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const evaluate = () => {
        const value = check();
        if (value === undefined || value === null || value === false) return;
        finish();
        resolve(value);
      };
      const poll = setInterval(evaluate, 100);
      const timer = setTimeout(() => {
        finish();
        const recent = calls.slice(-15).map((c) => `${c.method}:${c.status}:${c.error ?? 'ok'}`);
        reject(new Error(`timed out waiting for ${what}; last calls: ${recent.join(', ')}`));
      }, timeoutMs);
      const off = onChange(evaluate);
      function finish() {
        clearInterval(poll);
        clearTimeout(timer);
        off();
      }
      evaluate();
    });
  }

  return {
    apiUrl: `http://${host}/api/`,
    ids,
    botToken,
    appToken,
    signingSecret,
    calls,
    workspace,
    surfaces,
    socket,
    responses,
    responseUrl: () => `http://${host}/response/${randomUUID()}`,
    addFile: (name, content, mimetype = 'application/octet-stream') =>
      workspace.hostFile(name, content, mimetype),
    failNext(method, failure) {
      const queue = failures.get(method) ?? [];
      queue.push(failure);
      failures.set(method, queue);
    },
    withholdAnswer(method, match) {
      return new Promise((found) => withheld.push({ method, match, found }));
    },
    async sendEvent(event, deliver = {}) {
      const body = eventCallback(ids, event, deliver.eventId);
      const ack = await socket.deliver('events_api', body, deliver);
      return { ack, body };
    },
    grantScopes(scopes) {
      grantedScopes = [...scopes];
    },
    onChange,
    waitFor,
    close: () =>
      new Promise<void>((resolve, reject) => {
        socket.close();
        for (const response of unanswered) response.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}
