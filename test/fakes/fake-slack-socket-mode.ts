/**
 * Slack's Socket Mode on the fake: apps.connections.open hands out a single-use ws:// URL on
 * the fake's own port; the connection starts with a `hello`; every request (event, slash
 * command, button press) arrives in an envelope with an `envelope_id` that the app must ack
 * by sending `{ envelope_id, payload? }` back. Slack redelivers an envelope that was not acked
 * in time with `retry_attempt` counting up; tests do the same with `deliver(…, { retryAttempt })`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

export type EnvelopeType = 'events_api' | 'slash_commands' | 'interactive';

export interface DeliverOptions {
  /** 0 for the first delivery; Slack counts redeliveries up from 1. */
  readonly retryAttempt?: number;
  readonly retryReason?: string;
  /** How long to wait for the ack (Slack waits about 3 s). */
  readonly ackTimeoutMs?: number;
}

export interface Ack {
  readonly envelopeId: string;
  /** What the app put in its ack (a slash command's immediate response, for example). */
  readonly payload: unknown;
}

const PATH = '/socket-mode';
const PING_INTERVAL_MS = 10_000;

export class FakeSocketMode {
  /** Every envelope sent, in order, with its ack once it came. */
  readonly envelopes: { envelopeId: string; type: EnvelopeType; ack?: Ack }[] = [];
  /** How many connections were ever opened (reconnects count). */
  connectionsOpened = 0;
  private readonly server = new WebSocketServer({ noServer: true });
  private readonly tickets = new Set<string>();
  private readonly sockets = new Set<WebSocket>();
  private readonly waiting = new Map<string, (ack: Ack) => void>();
  private readonly appId: string;
  private connected: (() => void)[] = [];

  /** `spread`: events go to the open connections in turn, as Slack spreads them over an
   *  app's connections (several bot processes); otherwise to the newest connection. */
  private readonly spread: boolean;
  private nextSocket = 0;

  constructor(appId: string, spread = false) {
    this.spread = spread;
    this.appId = appId;
  }

  /** apps.connections.open: a URL that accepts one connection. */
  openUrl(host: string): string {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    return `ws://${host}${PATH}?ticket=${ticket}`;
  }

  handles(request: IncomingMessage): boolean {
    return new URL(request.url ?? '/', 'http://x').pathname === PATH;
  }

  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const ticket = new URL(request.url ?? '/', 'http://x').searchParams.get('ticket') ?? '';
    if (!this.tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    this.server.handleUpgrade(request, socket, head, (ws) => this.accept(ws));
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  /** Resolves once a connection has said hello (at once if one is open). */
  waitForConnection(timeoutMs = 10_000): Promise<void> {
    if (this.sockets.size > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('no Socket Mode connection came')),
        timeoutMs,
      );
      this.connected.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Sends one envelope to the newest connection and resolves with the app's ack. */
  async deliver(type: EnvelopeType, payload: unknown, options: DeliverOptions = {}): Promise<Ack> {
    await this.waitForConnection();
    const open = [...this.sockets];
    const socket = this.spread ? open[this.nextSocket++ % open.length] : open.at(-1);
    if (socket === undefined) throw new Error('no Socket Mode connection');
    const envelopeId = randomUUID();
    const record: { envelopeId: string; type: EnvelopeType; ack?: Ack } = { envelopeId, type };
    this.envelopes.push(record);
    const acked = new Promise<Ack>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(envelopeId);
        reject(new Error(`envelope ${envelopeId} (${type}) was not acknowledged`));
      }, options.ackTimeoutMs ?? 3000);
      this.waiting.set(envelopeId, (ack) => {
        clearTimeout(timer);
        record.ack = ack;
        resolve(ack);
      });
    });
    socket.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: type !== 'events_api',
        ...(type === 'events_api'
          ? {
              retry_attempt: options.retryAttempt ?? 0,
              retry_reason: options.retryReason ?? (options.retryAttempt ? 'timeout' : ''),
            }
          : {}),
      }),
    );
    return acked;
  }

  /** Asks the app to reconnect, as Slack does before recycling a server. */
  requestReconnect(): void {
    for (const socket of this.sockets) {
      socket.send(JSON.stringify({ type: 'disconnect', reason: 'refresh_requested' }));
    }
  }

  close(): void {
    for (const socket of this.sockets) socket.terminate();
    this.sockets.clear();
    this.server.close();
  }

  private accept(ws: WebSocket): void {
    this.sockets.add(ws);
    this.connectionsOpened += 1;
    // Slack pings; the client treats a long silence as a dead connection.
    const ping = setInterval(() => ws.ping(), PING_INTERVAL_MS);
    ping.unref();
    ws.on('close', () => {
      clearInterval(ping);
      this.sockets.delete(ws);
    });
    ws.on('message', (data: Buffer) => {
      let message: { envelope_id?: unknown; payload?: unknown };
      try {
        message = JSON.parse(data.toString('utf8')) as typeof message;
      } catch {
        return;
      }
      if (typeof message.envelope_id !== 'string') return;
      this.waiting.get(message.envelope_id)?.({
        envelopeId: message.envelope_id,
        payload: message.payload,
      });
      this.waiting.delete(message.envelope_id);
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.sockets.size,
        debug_info: { host: 'fake-slack', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: this.appId },
      }),
    );
    const waiters = this.connected;
    this.connected = [];
    for (const resolve of waiters) resolve();
  }
}
