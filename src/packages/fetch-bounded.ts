import { createHash } from 'node:crypto';
import { formatBytes } from '../core/bytes.ts';

/** Why a fetch from the package index gave nothing usable; the message names what to tell. */
export class FetchRefused extends Error {
  readonly tooLarge: boolean;
  constructor(message: string, tooLarge = false) {
    super(message);
    this.tooLarge = tooLarge;
  }
}

export interface FetchedBody {
  readonly content: Buffer;
  readonly contentType: string;
  readonly status: number;
}

export interface BoundedFetchOptions {
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
  readonly accept?: string;
  /** When given, the body's sha256 must match (lower-case hex). */
  readonly sha256?: string;
  /** What the body is, for messages ("the wheel x.whl"). */
  readonly what: string;
}

/**
 * GETs `url` and reads its body up to `maxBytes`, counting while it streams: a body past the
 * cap is aborted there, whatever Content-Length said (or did not say). A 404 is a result, not
 * an error (a project the index does not have).
 */
export async function fetchBounded(
  url: string,
  options: BoundedFetchOptions,
): Promise<FetchedBody> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: options.accept === undefined ? {} : { accept: options.accept },
      redirect: 'follow',
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (error) {
    if (options.signal?.aborted === true) throw error;
    throw new FetchRefused(`the package index could not be reached for ${options.what}`);
  }
  const tooLarge = () =>
    new FetchRefused(`${options.what} is larger than ${formatBytes(options.maxBytes)}`, true);
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  const hash = createHash('sha256');
  if (response.body !== null) {
    // Leaving the loop early cancels the body: the rest of an oversized wheel is never read.
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      if (bytes > options.maxBytes) throw tooLarge();
      hash.update(chunk);
      chunks.push(Buffer.from(chunk));
    }
  }
  if (response.ok && options.sha256 !== undefined && hash.digest('hex') !== options.sha256) {
    throw new FetchRefused(`${options.what} does not match the sha256 the index gave`);
  }
  return {
    content: Buffer.concat(chunks, bytes),
    contentType: response.headers.get('content-type') ?? '',
    status: response.status,
  };
}
