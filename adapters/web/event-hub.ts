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
 * Carries events between the bot replicas (Redis pub/sub): `publish` sends one to every
 * replica's hub, this one's included, which each deliver to their own pages.
 */
export interface EventFanOut {
  publish(data: string): Promise<void>;
}

export interface EventHubOptions {
  /** Unset (one process): events go straight to this process's pages. */
  readonly fanOut?: EventFanOut;
  /** Where a failed fan-out is reported. */
  readonly onError?: (error: unknown) => void;
}

/**
 * The live channel to every open page: Server-Sent Events, one stream per page for all
 * threads (a local playground has few), so progress and answers arrive without polling.
 * With several replicas a page's stream is held by one of them and a turn may run on another,
 * so events then travel through the fan-out and every hub delivers all of them.
 */
export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly options: EventHubOptions;
  private closed = false;

  constructor(options: EventHubOptions = {}) {
    this.options = options;
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
    const data = JSON.stringify(event);
    const { fanOut, onError } = this.options;
    if (fanOut === undefined) return this.deliver(data);
    // Not awaited: one connection keeps a replica's events in the order they were published.
    fanOut.publish(data).catch((error: unknown) => onError?.(error));
  }

  /** Writes one event (its JSON) to this process's pages. */
  deliver(data: string): void {
    const frame = `data: ${data}\n\n`;
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
