import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepAliveFetch } from '../../src/agent/keep-alive-fetch.ts';

/** A loopback server that answers by path and remembers what it was sent and on which socket. */
let server: http.Server;
let base = '';
const seen: { method: string; body: string; headers: http.IncomingHttpHeaders; port: number }[] =
  [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        body,
        headers: req.headers,
        port: req.socket.remotePort ?? 0,
      });
      if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: one\n\n');
        setTimeout(() => res.end('data: two\n\n'), 20);
      } else if (req.url === '/gzip') {
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' });
        res.end(gzipSync(JSON.stringify({ ok: true })));
      } else if (req.url === '/moved') {
        res.writeHead(307, { location: `${base}/echo` }).end();
      } else if (req.url === '/empty') {
        res.writeHead(204).end();
      } else if (req.url === '/hang') {
        res.writeHead(200);
        res.write('partial');
      } else {
        res.writeHead(req.url === '/missing' ? 404 : 200, { 'x-echo': 'yes' });
        res.end(body);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('keep-alive fetch', () => {
  it('sends text and form bodies with their headers, and reuses the connection', async () => {
    const fetch = keepAliveFetch();
    try {
      const first = await fetch(`${base}/echo`, {
        method: 'post',
        headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
        body: '{"a":1}',
      });
      expect(first.status).toBe(200);
      expect(first.headers.get('x-echo')).toBe('yes');
      expect(await first.text()).toBe('{"a":1}');
      const second = await fetch(`${base}/echo`, {
        method: 'POST',
        body: new URLSearchParams({ channel: 'C1', text: 'hi' }),
      });
      expect(await second.text()).toBe('channel=C1&text=hi');
      const [a, b] = seen.slice(-2);
      expect(a?.headers.authorization).toBe('Bearer k');
      expect(a?.method).toBe('POST');
      expect(b?.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
      expect(b?.port).toBe(a?.port);
    } finally {
      fetch.close();
    }
  });

  it('streams a body as it comes, decodes gzip, and gives statuses as they are', async () => {
    const fetch = keepAliveFetch();
    try {
      const stream = await fetch(`${base}/stream`, { method: 'POST', body: '{}' });
      const reader = stream.body?.getReader();
      if (reader === undefined) throw new Error('no body');
      const first = (await reader.read()).value as Uint8Array | undefined;
      expect(new TextDecoder().decode(first)).toBe('data: one\n\n');
      await reader.cancel();
      const zipped = await fetch(`${base}/gzip`);
      expect(await zipped.json()).toEqual({ ok: true });
      expect(zipped.headers.get('content-encoding')).toBeNull();
      expect((await fetch(`${base}/missing`)).status).toBe(404);
      const empty = await fetch(`${base}/empty`, { method: 'DELETE' });
      expect(empty.status).toBe(204);
      expect(empty.body).toBeNull();
    } finally {
      fetch.close();
    }
  });

  it('rejects with an AbortError when the signal fires, before or during the body', async () => {
    const fetch = keepAliveFetch();
    try {
      await expect(
        fetch(`${base}/echo`, { method: 'POST', body: 'x', signal: AbortSignal.abort() }),
      ).rejects.toMatchObject({ name: 'AbortError' });
      const controller = new AbortController();
      const hanging = await fetch(`${base}/hang`, { signal: controller.signal });
      const text = hanging.text();
      controller.abort();
      await expect(text).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      fetch.close();
    }
  });

  it('passes other bodies, and redirects, to the fallback fetch', async () => {
    const taken: unknown[] = [];
    const fetch = keepAliveFetch({
      fallback: (input) => {
        taken.push(input);
        return Promise.resolve(new Response('fallback'));
      },
    });
    try {
      const form = new FormData();
      form.append('file', new Blob(['x']), 'x.txt');
      const answer = await fetch(`${base}/echo`, { method: 'POST', body: form });
      expect(await answer.text()).toBe('fallback');
      expect(taken).toEqual([`${base}/echo`]);
      // A redirect is fetch's to follow; Slack's client asks for an error instead.
      expect(await (await fetch(`${base}/moved`, { method: 'POST', body: 'x' })).text()).toBe(
        'fallback',
      );
      expect(taken).toEqual([`${base}/echo`, `${base}/moved`]);
      await expect(
        fetch(`${base}/moved`, { method: 'POST', body: 'x', redirect: 'error' }),
      ).rejects.toThrow(/redirected/);
    } finally {
      fetch.close();
    }
  });
});
