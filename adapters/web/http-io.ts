import type { IncomingMessage, ServerResponse } from 'node:http';

/** Headers on every playground response: no sniffing, no framing, no referrer leaks. */
export const SAFE_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, {
    ...SAFE_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(JSON.stringify(body));
}

export function sendError(response: ServerResponse, status: number, error: string): void {
  sendJson(response, status, { error });
}

/** The request body, or undefined when it is longer than `maxBytes` (the rest is dropped). */
export async function readBody(
  request: IncomingMessage,
  maxBytes: number,
): Promise<{ content: Buffer | undefined; sizeBytes: number }> {
  const parts: Buffer[] = [];
  let sizeBytes = 0;
  for await (const chunk of request) {
    const part = chunk as Buffer;
    sizeBytes += part.length;
    // Past the limit the bytes are only counted, so an oversized upload costs no memory.
    if (sizeBytes <= maxBytes) parts.push(part);
    else parts.length = 0;
  }
  return { content: sizeBytes <= maxBytes ? Buffer.concat(parts) : undefined, sizeBytes };
}

/** A JSON object body within `maxBytes`, or undefined for anything else. */
export async function readJsonObject(
  request: IncomingMessage,
  maxBytes: number,
): Promise<Record<string, unknown> | undefined> {
  const { content } = await readBody(request, maxBytes);
  if (content === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(content.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** `attachment; filename=…` that survives any file name: ASCII fallback plus RFC 5987. */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
