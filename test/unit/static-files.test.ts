import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticFiles } from '../../adapters/web/static-files.ts';

describe('the playground page files', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const files = new StaticFiles();
    await files.load();
    server = createServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      if (!files.serve(path, request.method ?? 'GET', response)) {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('serves markdown-it and highlight.js from node_modules, under a strict CSP', async () => {
    const markdownIt = await fetch(`${base}/vendor/markdown-it.mjs`);
    expect(markdownIt.status).toBe(200);
    expect(markdownIt.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await markdownIt.text()).toMatch(/export\s*\{\s*\w+ as default\s*\}/);
    const highlight = await fetch(`${base}/vendor/highlight.mjs`);
    expect(await highlight.text()).toContain('Highlight.js');
    const theme = await fetch(`${base}/vendor/highlight.css`);
    expect(theme.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await theme.text()).toContain('.hljs-keyword');

    const csp = markdownIt.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("require-trusted-types-for 'script'");
  });

  it('serves nothing else from disk, whatever the path says', async () => {
    for (const path of [
      '/vendor/',
      '/vendor/../package.json',
      '/vendor/%2e%2e/%2e%2e/package.json',
      '/node_modules/markdown-it/package.json',
      '/public/app.js',
      '/static-files.ts',
    ]) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    }
  });
});
