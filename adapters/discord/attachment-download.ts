/** Attachments come from Discord's CDN; a stalled download must not hold a turn forever. */
const DOWNLOAD_TIMEOUT_MS = 120_000;

/** Where Discord serves attachments (`Attachment.url` and `proxyURL`). */
const DISCORD_CDN_HOSTS = new Set(['cdn.discordapp.com', 'media.discordapp.net']);

/**
 * Whether a ref names a file on Discord's CDN (or on the REST base's origin, where a proxy or
 * the tests' fake serves it). A ref comes back from a stored turn: checking it keeps a
 * tampered store from turning the bot into a fetcher of arbitrary URLs.
 */
export function isAttachmentUrl(ref: string, apiUrl: string | undefined): boolean {
  let url: URL;
  try {
    url = new URL(ref);
  } catch {
    return false;
  }
  if (url.username !== '' || url.password !== '') return false;
  if (url.protocol === 'https:' && DISCORD_CDN_HOSTS.has(url.hostname)) return true;
  return apiUrl !== undefined && url.origin === new URL(apiUrl).origin;
}

/**
 * The bytes at an attachment URL, refused past `maxBytes` (by Content-Length, or while
 * reading when the server sends none), so a ref never costs more memory than an upload may.
 */
export async function downloadAttachment(url: string, maxBytes: number): Promise<Buffer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new Error(`downloading a Discord attachment failed: HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body.cancel();
    throw tooLarge(maxBytes);
  }
  const parts: Uint8Array[] = [];
  let sizeBytes = 0;
  // The DOM typing of ReadableStream's iterator yields `any`; fetch's body yields bytes.
  for await (const part of response.body as AsyncIterable<Uint8Array>) {
    sizeBytes += part.length;
    if (sizeBytes > maxBytes) throw tooLarge(maxBytes);
    parts.push(part);
  }
  return Buffer.concat(parts);
}

function tooLarge(maxBytes: number): Error {
  return new Error(`a Discord attachment is over the ${maxBytes}-byte limit`);
}
