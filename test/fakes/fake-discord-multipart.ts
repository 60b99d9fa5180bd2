/**
 * Request bodies as Discord reads them: JSON, or multipart/form-data with the message in a
 * `payload_json` part and each file in a `files[n]` part (n matching `attachments[].id`).
 * Multipart is parsed by the platform's own parser (WHATWG Response.formData), not by hand.
 */
import type { IncomingMessage } from 'node:http';

export interface UploadedFile {
  /** The form field, e.g. `files[0]`. */
  readonly field: string;
  /** The `n` of `files[n]`. */
  readonly index: number;
  readonly filename: string;
  readonly contentType: string;
  readonly content: Buffer;
}

export interface ParsedBody {
  /** The JSON object body, or the parsed `payload_json` part; undefined otherwise. */
  readonly json: Record<string, unknown> | undefined;
  /** A JSON array body (bulk command registration). */
  readonly list?: readonly unknown[];
  readonly files: readonly UploadedFile[];
  readonly multipart: boolean;
}

export class BodyError extends Error {
  override readonly name = 'BodyError';
}

export async function readRequestBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function parseBody(raw: Buffer, contentType: string | undefined): Promise<ParsedBody> {
  const type = contentType ?? '';
  if (type.startsWith('multipart/form-data')) return parseMultipart(raw, type);
  if (raw.length === 0) return { json: undefined, files: [], multipart: false };
  const value = parseJson(raw.toString('utf8'));
  if (Array.isArray(value)) return { json: undefined, list: value, files: [], multipart: false };
  return { json: asObject(value), files: [], multipart: false };
}

async function parseMultipart(raw: Buffer, contentType: string): Promise<ParsedBody> {
  let form: FormData;
  try {
    // A loopback test fake with small bodies: the platform's own multipart parser is exact
    // enough here, and saves a dependency (the warning is about untrusted server traffic).
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw new BodyError('malformed multipart body');
  }
  let json: Record<string, unknown> | undefined;
  const files: UploadedFile[] = [];
  for (const [field, value] of form) {
    if (field === 'payload_json') {
      if (typeof value !== 'string') throw new BodyError('payload_json must be a text part');
      json = asObject(parseJson(value));
      continue;
    }
    const match = /^files\[(\d+)\]$/.exec(field);
    if (match === null || typeof value === 'string') continue;
    files.push({
      field,
      index: Number(match[1]),
      filename: value.name,
      contentType: value.type === '' ? 'application/octet-stream' : value.type,
      content: Buffer.from(await value.arrayBuffer()),
    });
  }
  return { json, files, multipart: true };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BodyError('body is not valid JSON');
  }
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BodyError('body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
