import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The cookie the login form sets, so images, downloads and the event stream carry the token. */
export const TOKEN_COOKIE = 'sandbot_playground';
/** Header the page's own requests carry; a cross-site form or image cannot send it. */
export const REQUEST_HEADER = 'x-sandbot-request';
/** Header scripts may use instead of the cookie. */
export const TOKEN_HEADER = 'x-sandbot-token';

export type GuardVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: 401 | 403; readonly error: string };

const OK: GuardVerdict = { ok: true };

/**
 * Who may use the playground. With PLAYGROUND_TOKEN set, every API request must carry it
 * (header or cookie), compared in constant time. Without it the playground is for this
 * machine only: requests must name a loopback host, which also defeats DNS rebinding (a
 * hostile site pointing its own name at 127.0.0.1). State-changing requests must come from
 * the page itself: a custom header no cross-site form can send, and a matching Origin.
 */
export class RequestGuard {
  private readonly tokenDigest: Buffer | undefined;

  constructor(token: string | undefined) {
    this.tokenDigest = token === undefined ? undefined : digest(token);
  }

  get tokenRequired(): boolean {
    return this.tokenDigest !== undefined;
  }

  /** Host, and for anything but GET/HEAD the custom header and Origin. */
  checkRequest(request: IncomingMessage): GuardVerdict {
    const host = request.headers.host ?? '';
    if (this.tokenDigest === undefined && !isLoopbackHost(host)) {
      return { ok: false, status: 403, error: 'the playground answers on localhost only' };
    }
    const method = request.method ?? 'GET';
    if (method === 'GET' || method === 'HEAD') return OK;
    if (request.headers[REQUEST_HEADER] !== '1') {
      return { ok: false, status: 403, error: `missing ${REQUEST_HEADER} header` };
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !sameHost(origin, host)) {
      return { ok: false, status: 403, error: 'cross-site request refused' };
    }
    return OK;
  }

  isAuthenticated(request: IncomingMessage): boolean {
    if (this.tokenDigest === undefined) return true;
    const presented = presentedToken(request);
    return presented !== undefined && this.matches(presented);
  }

  matches(token: string): boolean {
    return this.tokenDigest !== undefined && timingSafeEqual(digest(token), this.tokenDigest);
  }
}

/** Equal-length digests, so the comparison's time says nothing about the token's length. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function presentedToken(request: IncomingMessage): string | undefined {
  const header = request.headers[TOKEN_HEADER];
  if (typeof header === 'string' && header !== '') return header;
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (bearer !== undefined) return bearer;
  return readCookie(request.headers.cookie ?? '', TOKEN_COOKIE);
}

function readCookie(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index < 0 || part.slice(0, index).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(index + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** `localhost`, `127.x.y.z` or `[::1]`, with or without a port. */
function isLoopbackHost(host: string): boolean {
  const name = hostName(host);
  return name === 'localhost' || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

function hostName(host: string): string {
  const bracket = /^(\[[^\]]*\])(?::\d+)?$/.exec(host);
  if (bracket !== null) return (bracket[1] ?? '').toLowerCase();
  return host.replace(/:\d+$/, '').toLowerCase();
}

function sameHost(origin: string, host: string): boolean {
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}
