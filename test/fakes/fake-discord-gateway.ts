/**
 * The gateway half of the fake Discord server: a WebSocket speaking Discord's gateway v10 with
 * JSON encoding. Hello (op 10) with the heartbeat interval, identify (op 2) → READY and
 * GUILD_CREATE, heartbeat (op 1) → ack (op 11), dispatches (op 0) with sequence numbers,
 * reconnect requests (op 7), and resume (op 6) → the missed dispatches replayed, then RESUMED.
 * Invalid sessions get op 9. Compression is refused: @discordjs/ws only asks for zlib-stream
 * when the optional zlib-sync package is installed, and it is not.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { GatewayCloseCodes, GatewayOpcodes } from 'discord.js';

/** Opcodes the client sends, as plain numbers to compare with what arrives on the wire. */
const OP = {
  Heartbeat: GatewayOpcodes.Heartbeat as number,
  Identify: GatewayOpcodes.Identify as number,
  PresenceUpdate: GatewayOpcodes.PresenceUpdate as number,
  Resume: GatewayOpcodes.Resume as number,
  RequestGuildMembers: GatewayOpcodes.RequestGuildMembers as number,
};

export interface GatewayDispatch {
  readonly s: number;
  readonly t: string;
  readonly d: unknown;
}

export interface GatewayFrameIn {
  readonly op: number;
  readonly d: unknown;
  /** performance.now() when the frame arrived. */
  readonly at: number;
}

export interface GatewayConnection {
  /** The path and query the client connected with (the resume URL has its own path). */
  readonly url: string;
  readonly at: number;
}

export interface FakeGatewayOptions {
  readonly token: string;
  readonly heartbeatIntervalMs: number;
  /** Intents the application may not use (privileged ones not enabled in the portal). */
  readonly disallowedIntents: number;
  /** Where clients resume, sent in READY as resume_gateway_url. */
  readonly resumeUrl: () => string;
  /** READY's data for a new session. */
  readonly ready: (sessionId: string) => object;
  /** GUILD_CREATE payloads that follow READY, shaped for the session's intents. */
  readonly guildCreates: (intents: number) => object[];
  /** Called after every frame in or out, so waiting tests re-check their conditions. */
  readonly onChange: () => void;
}

interface Session {
  readonly id: string;
  readonly intents: number;
  seq: number;
  /** Every dispatch of the session, for replay on resume. */
  readonly log: GatewayDispatch[];
  /** The socket delivering this session's dispatches, while one is attached. */
  socket: WebSocket | undefined;
}

/** A dispatch's payload as the session's intents allow it; undefined drops the event. */
export type ShapeForIntents = (intents: number) => object | undefined;

export class FakeGateway {
  readonly received: GatewayFrameIn[] = [];
  readonly connections: GatewayConnection[] = [];
  /** Close codes of the client's connections, in order (1000: it ended its session). */
  readonly closes: number[] = [];
  /** Every dispatch sent or queued, with the time it was made (bench, ordering checks). */
  readonly dispatched: (GatewayDispatch & { at: number })[] = [];
  private readonly options: FakeGatewayOptions;
  private readonly server = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<WebSocket>();
  private session: Session | undefined;
  private sessionCount = 0;

  constructor(options: FakeGatewayOptions) {
    this.options = options;
  }

  /** The intents the current session identified with (0 before any identify). */
  get intents(): number {
    return this.session?.intents ?? 0;
  }

  /** Whether a session is attached to a live socket. */
  get connected(): boolean {
    return this.session?.socket !== undefined;
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.server.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request));
  }

  /**
   * Sends an event to the session (or keeps it for replay while the client is away). Events
   * made before any identify are lost, as they would be on Discord.
   */
  dispatch(event: string, shape: ShapeForIntents): number | undefined {
    const session = this.session;
    if (session === undefined) return undefined;
    const data = shape(session.intents);
    if (data === undefined) return undefined;
    session.seq += 1;
    const entry: GatewayDispatch = { s: session.seq, t: event, d: data };
    session.log.push(entry);
    this.dispatched.push({ ...entry, at: performance.now() });
    if (session.socket !== undefined) this.send(session.socket, GatewayOpcodes.Dispatch, entry);
    this.options.onChange();
    return entry.s;
  }

  /** Op 7: Discord asks the client to reconnect and resume. */
  requestReconnect(): void {
    const socket = this.session?.socket;
    if (socket === undefined) throw new Error('no connected session to ask to reconnect');
    this.send(socket, GatewayOpcodes.Reconnect, { s: null, t: null, d: null });
  }

  /** Drops the connection without a close frame, as a network failure would. */
  dropConnection(): void {
    const socket = this.session?.socket;
    if (socket === undefined) throw new Error('no connected session to drop');
    if (this.session) this.session.socket = undefined;
    socket.terminate();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: WebSocket, request: IncomingMessage): void {
    this.sockets.add(socket);
    const url = request.url ?? '/';
    this.connections.push({ url, at: performance.now() });
    const query = new URL(url, 'ws://fake').searchParams;
    socket.on('close', (code) => this.onSocketClosed(socket, code));
    socket.on('error', () => undefined);
    if (query.get('encoding') !== 'json' || query.get('v') !== '10') {
      socket.close(GatewayCloseCodes.DecodeError, 'the fake gateway speaks v=10, encoding=json');
      return;
    }
    if (query.has('compress')) {
      socket.close(GatewayCloseCodes.DecodeError, 'the fake gateway does not compress');
      return;
    }
    socket.on('message', (raw) => this.onFrame(socket, raw));
    this.send(socket, GatewayOpcodes.Hello, {
      s: null,
      t: null,
      d: { heartbeat_interval: this.options.heartbeatIntervalMs },
    });
  }

  private onFrame(socket: WebSocket, raw: RawData): void {
    let frame: { op?: unknown; d?: unknown };
    try {
      frame = JSON.parse(rawText(raw)) as { op?: unknown; d?: unknown };
    } catch {
      socket.close(GatewayCloseCodes.DecodeError, 'Error while decoding payload.');
      return;
    }
    const op = typeof frame.op === 'number' ? frame.op : -1;
    this.received.push({ op, d: frame.d, at: performance.now() });
    const attached = this.session?.socket === socket;
    switch (op) {
      case OP.Heartbeat:
        this.send(socket, GatewayOpcodes.HeartbeatAck, { s: null, t: null, d: null });
        break;
      case OP.Identify:
        if (attached)
          socket.close(GatewayCloseCodes.AlreadyAuthenticated, 'Already authenticated.');
        else this.identify(socket, frame.d);
        break;
      case OP.Resume:
        this.resume(socket, frame.d);
        break;
      case OP.PresenceUpdate:
      case OP.RequestGuildMembers:
        if (!attached) socket.close(GatewayCloseCodes.NotAuthenticated, 'Not authenticated.');
        break;
      default:
        socket.close(GatewayCloseCodes.UnknownOpcode, 'Unknown opcode.');
    }
    this.options.onChange();
  }

  private identify(socket: WebSocket, data: unknown): void {
    const d = (data ?? {}) as { token?: unknown; intents?: unknown; compress?: unknown };
    if (d.token !== this.options.token) {
      socket.close(GatewayCloseCodes.AuthenticationFailed, 'Authentication failed.');
      return;
    }
    if (typeof d.intents !== 'number') {
      socket.close(GatewayCloseCodes.InvalidIntents, 'Invalid intent(s).');
      return;
    }
    if ((d.intents & this.options.disallowedIntents) !== 0) {
      socket.close(GatewayCloseCodes.DisallowedIntents, 'Disallowed intent(s).');
      return;
    }
    if (d.compress === true) {
      socket.close(GatewayCloseCodes.DecodeError, 'the fake gateway does not compress');
      return;
    }
    // A new identify ends any previous session, as on Discord.
    this.detachOthers(socket);
    this.sessionCount += 1;
    const id = `fake-session-${this.sessionCount}`;
    this.session = { id, intents: d.intents, seq: 0, log: [], socket };
    this.dispatch('READY', () => this.options.ready(id));
    for (const guild of this.options.guildCreates(d.intents)) {
      this.dispatch('GUILD_CREATE', () => guild);
    }
  }

  private resume(socket: WebSocket, data: unknown): void {
    const d = (data ?? {}) as { token?: unknown; session_id?: unknown; seq?: unknown };
    const session = this.session;
    if (d.token !== this.options.token) {
      socket.close(GatewayCloseCodes.AuthenticationFailed, 'Authentication failed.');
      return;
    }
    if (session === undefined || d.session_id !== session.id || typeof d.seq !== 'number') {
      this.send(socket, GatewayOpcodes.InvalidSession, { s: null, t: null, d: false });
      return;
    }
    this.detachOthers(socket);
    session.socket = socket;
    const from = d.seq;
    for (const entry of session.log) {
      if (entry.s > from) this.send(socket, GatewayOpcodes.Dispatch, entry);
    }
    this.dispatch('RESUMED', () => ({}));
  }

  /** Only one connection carries the session: an older socket is cut when a new one takes it. */
  private detachOthers(keep: WebSocket): void {
    const old = this.session?.socket;
    if (old !== undefined && old !== keep && this.session !== undefined) {
      this.session.socket = undefined;
      old.terminate();
    }
  }

  private onSocketClosed(socket: WebSocket, code: number): void {
    this.sockets.delete(socket);
    this.closes.push(code);
    const session = this.session;
    if (session?.socket !== socket) return;
    session.socket = undefined;
    // A normal close (1000/1001) ends the session; any other code keeps it resumable.
    if (code === 1000 || code === 1001) this.session = undefined;
    this.options.onChange();
  }

  private send(socket: WebSocket, op: number, frame: object): void {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ op, ...frame }));
  }
}

function rawText(raw: RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  if (raw instanceof ArrayBuffer) return Buffer.from(raw).toString('utf8');
  return raw.toString('utf8');
}
