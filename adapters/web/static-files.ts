import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { SAFE_HEADERS } from './http-io.ts';

const PUBLIC_DIR = new URL('./public/', import.meta.url);
const require = createRequire(import.meta.url);

const HTML = 'text/html; charset=utf-8';
const SCRIPT = 'text/javascript; charset=utf-8';
const STYLE = 'text/css; charset=utf-8';

/** A file of an installed package, found the way Node finds the package itself. */
function packageFile(name: string, path: string): URL {
  return new URL(path, pathToFileURL(require.resolve(`${name}/package.json`)));
}

/**
 * The page's files and the browser builds of the libraries it uses (served from node_modules,
 * never a CDN, so the page works offline and the CSP stays 'self'). A fixed table: nothing
 * else on disk is reachable by URL, whatever the path says.
 */
const FILES: Readonly<Record<string, { file: URL; type: string }>> = {
  '/': { file: new URL('index.html', PUBLIC_DIR), type: HTML },
  '/app.js': { file: new URL('app.js', PUBLIC_DIR), type: SCRIPT },
  '/markdown.js': { file: new URL('markdown.js', PUBLIC_DIR), type: SCRIPT },
  '/message-view.js': { file: new URL('message-view.js', PUBLIC_DIR), type: SCRIPT },
  '/app.css': { file: new URL('app.css', PUBLIC_DIR), type: STYLE },
  '/vendor/markdown-it.mjs': {
    file: packageFile('markdown-it', './dist/browser/markdown-it.esm.min.mjs'),
    type: SCRIPT,
  },
  '/vendor/highlight.mjs': {
    file: packageFile('@highlightjs/cdn-assets', './es/highlight.min.js'),
    type: SCRIPT,
  },
  '/vendor/highlight.css': {
    file: packageFile('@highlightjs/cdn-assets', './styles/github.min.css'),
    type: STYLE,
  },
};

/**
 * Only the page's own script and style run, whatever text ends up in it: a second line of
 * defence behind the page escaping every message (markdown-it with HTML off). Trusted Types
 * leave the page one way to put HTML into the DOM, the policy that takes markdown-it's output.
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
  "require-trusted-types-for 'script'",
  'trusted-types markdown',
].join('; ');

export class StaticFiles {
  private readonly loaded = new Map<string, { body: Buffer; type: string }>();

  /** Reads the files once; they are small and change only with a release. */
  async load(): Promise<void> {
    for (const [path, { file, type }] of Object.entries(FILES)) {
      this.loaded.set(path, { body: await readFile(file), type });
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
