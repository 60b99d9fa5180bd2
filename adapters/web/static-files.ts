import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { SAFE_HEADERS } from './http-io.ts';

const PUBLIC_DIR = new URL('./public/', import.meta.url);

/** The page's three files; nothing else on disk is reachable by URL. */
const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/**
 * Only the page's own script and style run, whatever text ends up in it: a second line of
 * defence behind the page building every message with textContent.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export class StaticFiles {
  private readonly loaded = new Map<string, { body: Buffer; type: string }>();

  /** Reads the files once; they are small and change only with a release. */
  async load(): Promise<void> {
    for (const [path, { file, type }] of Object.entries(FILES)) {
      this.loaded.set(path, { body: await readFile(new URL(file, PUBLIC_DIR)), type });
    }
  }

  /** Serves `path` if it is one of the page's files; false otherwise. */
  serve(path: string, method: string, response: ServerResponse): boolean {
    const file = this.loaded.get(path === '/index.html' ? '/' : path);
    if (file === undefined || (method !== 'GET' && method !== 'HEAD')) return false;
    response.writeHead(200, {
      ...SAFE_HEADERS,
      'content-type': file.type,
      'content-length': file.body.length,
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'cache-control': 'no-cache',
    });
    response.end(method === 'HEAD' ? undefined : file.body);
    return true;
  }
}
