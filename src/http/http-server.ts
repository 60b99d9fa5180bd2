import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { HttpRoutes, RouteHandler } from '../core/chat-adapter.ts';
import type { Logger } from '../logging/logger.ts';

export type { RouteHandler };

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  /** Served on /metrics. */
  readonly metrics: Registry;
  /** /healthz answers 200 while this is true, 503 after (shutting down). */
  readonly healthy: () => boolean;
  /** sandbot's version, sent with /healthz as `X-Sandbot-Version` (the body stays `ok`). */
  readonly version?: string;
}

/**
 * The bot's one HTTP listener: /healthz and /metrics, plus whatever adapters mount (Slack
 * events on /slack/events, the playground on /). The longest matching prefix wins.
 */
export class HttpServer implements HttpRoutes {
  private readonly options: HttpServerOptions;
  private readonly routes: { prefix: string; handler: RouteHandler }[] = [];
  private server: Server | undefined;

  constructor(options: HttpServerOptions) {
    this.options = options;
  }

  /** `prefix` "/" matches everything; "/slack/" matches /slack/events. */
  mount(prefix: string, handler: RouteHandler): void {
    this.routes.push({ prefix, handler });
    this.routes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The address once listening, e.g. http://127.0.0.1:3000 (the real port when 0 was asked). */
  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (address === null || address === undefined) throw new Error('not listening');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  async listen(): Promise<void> {
    const server = createServer((request, response) => void this.dispatch(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async dispatch(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    try {
      if (path === '/healthz') return this.health(response);
      if (path === '/metrics') return await this.metrics(response);
      const route = this.routes.find((r) => path === r.prefix || path.startsWith(r.prefix));
      if (route === undefined) {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      await route.handler(request, response);
    } catch (error) {
      this.options.logger.error({ err: error, path }, 'http handler failed');
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('internal error\n');
    }
  }

  private health(response: ServerResponse): void {
    const ok = this.options.healthy();
    const version = this.options.version;
    response.writeHead(ok ? 200 : 503, {
      'content-type': 'text/plain',
      ...(version === undefined ? {} : { 'x-sandbot-version': version }),
    });
    response.end(ok ? 'ok\n' : 'shutting down\n');
  }

  private async metrics(response: ServerResponse): Promise<void> {
    const body = await this.options.metrics.metrics();
    response.writeHead(200, { 'content-type': this.options.metrics.contentType }).end(body);
  }
}
