import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ThreadItem, ThreadSummary } from './thread-store.ts';

/** What the page hears live; it refetches the open thread after a reconnect. */
export type PlaygroundEvent =
  | { readonly type: 'thread'; readonly thread: ThreadSummary }
  | { readonly type: 'item'; readonly threadId: string; readonly item: ThreadItem }
  | { readonly type: 'progress'; readonly threadId: string; readonly text: string | null };

/** Proxies drop connections that stay silent; a comment line every so often keeps them. */
const HEARTBEAT_MS = 15_000;

/**
 * The live channel to every open page: Server-Sent Events, one stream per page for all
 * threads (a local playground has few), so progress and answers arrive without polling.
 */
export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;

  constructor() {
    this.heartbeat = setInterval(() => {
      for (const client of this.clients) client.write(': keep-alive\n\n');
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Turns the request into an event stream that stays open until the page goes. */
  connect(request: IncomingMessage, response: ServerResponse): void {
    if (this.closed) {
      // Shutting down: a page reconnecting now must not hold the server open.
      response.writeHead(503, { 'content-type': 'text/plain' }).end('shutting down\n');
      return;
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    // EventSource reconnects after this many milliseconds when the stream drops.
    response.write('retry: 1000\n\n');
    this.clients.add(response);
    request.socket.setNoDelay(true);
    const forget = () => this.clients.delete(response);
    request.once('close', forget);
    response.once('close', forget);
  }

  publish(event: PlaygroundEvent): void {
    const frame = `data: ${JSON.stringify(event)}\n\n`;
    for (const client of this.clients) client.write(frame);
  }

  /** Ends every stream, so the HTTP server can close (open streams would hold it). */
  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const client of this.clients) client.end();
    this.clients.clear();
  }
}
