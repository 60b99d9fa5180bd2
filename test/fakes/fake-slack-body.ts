/**
 * Request bodies as Slack's Web API reads them: form-encoded (what @slack/web-api sends, with
 * objects such as `blocks` as JSON strings), JSON (with the token in the Authorization
 * header), or multipart (file bytes).
 */
import type { IncomingMessage } from 'node:http';

export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Form fields Slack documents as JSON-encoded strings. */
const JSON_FIELDS = new Set([
  'blocks',
  'attachments',
  'files',
  'prompts',
  'metadata',
  'file_ids',
  'chunks',
]);

export type Args = Record<string, unknown>;

export function parseArgs(contentType: string, body: Buffer): Args {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (body.length === 0) return {};
  if (type === 'application/json') {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Args) : {};
  }
  if (type === 'multipart/form-data') {
    const args: Args = {};
    for (const part of multipartParts(contentType, body)) {
      args[part.name] =
        part.filename === undefined ? decodeField(part.name, part.content.toString('utf8')) : part;
    }
    return args;
  }
  const args: Args = {};
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) {
    args[key] = decodeField(key, value);
  }
  return args;
}

function decodeField(key: string, value: string): unknown {
  if (!JSON_FIELDS.has(key)) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** The bytes of an upload: the first file part of a multipart body, else the raw body. */
export function uploadedBytes(contentType: string, body: Buffer): Buffer {
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) return body;
  const parts = multipartParts(contentType, body);
  return (parts.find((p) => p.filename !== undefined) ?? parts[0])?.content ?? Buffer.alloc(0);
}

export interface MultipartPart {
  readonly name: string;
  readonly filename: string | undefined;
  readonly content: Buffer;
}

/** RFC 7578 bodies, as fetch's FormData sends them: parts between `--boundary` lines. */
export function multipartParts(contentType: string, body: Buffer): MultipartPart[] {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (boundary === undefined) return [];
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const from = start + delimiter.length;
    if (body.subarray(from, from + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, from);
    if (next < 0) break;
    // Each part: CRLF, headers, a blank line, the content, CRLF before the next delimiter.
    const part = body.subarray(from + 2, next - 2);
    const split = part.indexOf('\r\n\r\n');
    if (split >= 0) {
      const headers = part.subarray(0, split).toString('utf8');
      const name = /name="([^"]*)"/i.exec(headers)?.[1] ?? '';
      const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
      parts.push({ name, filename, content: Buffer.from(part.subarray(split + 4)) });
    }
    start = next;
  }
  return parts;
}

export function bearerToken(request: IncomingMessage, args: Args): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.startsWith('Bearer ')) return header.slice(7);
  return typeof args.token === 'string' ? args.token : undefined;
}
