import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** What `fetch` takes and gives: the openai client and Slack's WebClient accept this shape. */
export type Fetch = typeof globalThis.fetch;

/** Statuses whose response has no body (the Response constructor refuses one). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * A free connection is closed after this long: below the 5 s a Node server keeps one
 * (the fakes, local model servers) and the 4 s undici's fetch keeps one, so a request does
 * not go out on a connection the server is closing.
 */
const FREE_SOCKET_MS = 4000;

export interface KeepAliveFetchOptions {
  /** Used for what this one does not handle (bodies other than text or bytes, other
   *  protocols). Default: globalThis.fetch. */
  readonly fallback?: Fetch;
}

/**
 * `fetch` for the bot's API clients (the model, Slack's Web API) over node:http(s) with
 * keep-alive agents. Node's fetch (undici) spends about 0.3 to 0.5 ms more per request on
 * its WHATWG machinery than a plain request on a kept-alive connection, measured against a
 * loopback server on this host; a turn makes several such calls one after the other
 * (issue 19: the bot's own share of a turn). Requests with a text, bytes or form-encoded
 * body (all the two clients send but file uploads) go this way; anything else goes to
 * `fallback`, and so does a request answered with a redirect (neither API redirects; a
 * proxy in front might). Compressed bodies are decompressed, as fetch does.
 */
export function keepAliveFetch(options: KeepAliveFetchOptions = {}): Fetch & {
  /** Closes the kept-alive connections. */
  close(): void;
} {
  const fallback = options.fallback ?? globalThis.fetch;
  const agents = {
    'http:': new http.Agent({ keepAlive: true, timeout: FREE_SOCKET_MS }),
    'https:': new https.Agent({ keepAlive: true, timeout: FREE_SOCKET_MS }),
  };
  const send = (input: Parameters<Fetch>[0], init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const body = textOrBytes(init.body);
    const protocol = url.protocol;
    if (
      input instanceof Request ||
      body === undefined ||
      (protocol !== 'http:' && protocol !== 'https:')
    ) {
      return fallback(input, init);
    }
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => (headers[name] = value));
    if (init.body instanceof URLSearchParams) {
      headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    }
    if (body !== null) headers['content-length'] = String(Buffer.byteLength(body));
    const module = protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = module.request(
        url,
        {
          method: (init.method ?? 'GET').toUpperCase(),
          headers,
          agent: agents[protocol],
          ...(init.signal == null ? {} : { signal: init.signal }),
        },
        (response) => {
          const redirect = REDIRECT_STATUSES.has(response.statusCode ?? 0)
            ? response.headers.location
            : undefined;
          if (redirect === undefined || init.redirect === 'manual') {
            resolve(toResponse(response, init.signal ?? undefined));
            return;
          }
          response.resume();
          // Neither API redirects; a proxy that does is left to fetch, which follows it.
          if (init.redirect === 'error') reject(new TypeError(`redirected to ${redirect}`));
          else resolve(fallback(input, init));
        },
      );
      request.on('error', reject);
      request.end(body ?? undefined);
    });
  };
  return Object.assign(send, {
    close: () => {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  });
}

/** The body as text or bytes; null for none; undefined for a kind this fetch passes on. */
function textOrBytes(body: RequestInit['body']): string | Uint8Array | null | undefined {
  if (body == null) return null;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof Uint8Array) return body;
  return undefined;
}

function toResponse(response: http.IncomingMessage, signal: AbortSignal | undefined): Response {
  const status = response.statusCode ?? 0;
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  if (NULL_BODY_STATUSES.has(status)) {
    response.resume();
    return new Response(null, { status, statusText: response.statusMessage ?? '', headers });
  }
  const decoded = decode(response, headers.get('content-encoding'));
  // As fetch: a body cut off by the signal fails with an AbortError, not a reset connection.
  if (signal !== undefined) {
    const abort = () => {
      decoded.destroy(new DOMException('This operation was aborted', 'AbortError'));
      response.destroy();
    };
    signal.addEventListener('abort', abort, { once: true });
    decoded.once('close', () => signal.removeEventListener('abort', abort));
  }
  if (decoded !== response) {
    // As fetch: the body is the decoded bytes, whose length the header no longer gives.
    headers.delete('content-encoding');
    headers.delete('content-length');
  }
  return new Response(Readable.toWeb(decoded) as ReadableStream<Uint8Array>, {
    status,
    statusText: response.statusMessage ?? '',
    headers,
  });
}

function decode(response: http.IncomingMessage, encoding: string | null): Readable {
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : undefined;
  if (decoder === undefined) return response;
  response.on('error', (error) => decoder.destroy(error));
  return response.pipe(decoder);
}
