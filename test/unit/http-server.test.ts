import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HttpServer } from '../../src/http/http-server.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { MemoryDeliveryGuard } from '../../src/conversation/delivery-guard-stores.ts';
import { isFirstDelivery } from '../../src/core/delivery-guard.ts';

describe('the bot HTTP server', () => {
  let server: HttpServer | undefined;
  afterEach(async () => server?.close());

  it('serves /healthz, /metrics, and mounted routes by longest prefix', async () => {
    let healthy = true;
    server = new HttpServer({
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ level: 'silent', format: 'json' }),
      metrics: new Registry(),
      healthy: () => healthy,
    });
    server.mount('/', (_req, res) => void res.end('root'));
    server.mount('/slack/', (_req, res) => void res.end('slack'));
    server.mount('/boom', () => {
      throw new Error('handler bug');
    });
    await server.listen();
    const get = async (path: string) => {
      const response = await fetch(`${server?.url ?? ''}${path}`);
      return { status: response.status, body: await response.text() };
    };
    expect(await get('/healthz')).toEqual({ status: 200, body: 'ok\n' });
    expect((await get('/metrics')).status).toBe(200);
    expect(await get('/slack/events?x=1')).toEqual({ status: 200, body: 'slack' });
    expect(await get('/anything')).toEqual({ status: 200, body: 'root' });
    expect(await get('/boom')).toEqual({ status: 500, body: 'internal error\n' });
    healthy = false;
    expect((await get('/healthz')).status).toBe(503);
  });

  it('names its version on /healthz', async () => {
    server = new HttpServer({
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ level: 'silent', format: 'json' }),
      metrics: new Registry(),
      healthy: () => true,
      version: '1.2.3',
    });
    await server.listen();
    const response = await fetch(`${server.url}/healthz`);
    expect(response.headers.get('x-sandbot-version')).toBe('1.2.3');
    expect(await response.text()).toBe('ok\n');
  });

  it('answers 404 where nothing is mounted', async () => {
    server = new HttpServer({
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ level: 'silent', format: 'json' }),
      metrics: new Registry(),
      healthy: () => true,
    });
    await server.listen();
    expect((await fetch(`${server.url}/nothing`)).status).toBe(404);
  });
});

describe('the memory delivery guard', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('lets an id through once within the window, and again after it', async () => {
    const guard = new MemoryDeliveryGuard(50);
    expect(await guard.firstDelivery('a')).toBe(true);
    expect(await guard.firstDelivery('a')).toBe(false);
    expect(await guard.firstDelivery('b')).toBe(true);
    await vi.advanceTimersByTimeAsync(49);
    expect(await guard.firstDelivery('a')).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await guard.firstDelivery('a')).toBe(true);
  });
});

describe('isFirstDelivery', () => {
  it('fails open: with the guard down an event is handled rather than lost', async () => {
    const down = { firstDelivery: () => Promise.reject(new Error('redis down')) };
    const logger = createLogger({ level: 'silent', format: 'json' });
    expect(await isFirstDelivery(down, 'x', logger)).toBe(true);
  });
});
