/**
 * A scripted OpenAI-compatible Chat Completions server on loopback. Tests drive sandbot (or the
 * real `openai` client) against it, so the fake sits at the wire: plain HTTP, the same JSON and
 * SSE shapes api.openai.com sends. Each POST /v1/chat/completions consumes one scripted reply.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ScriptedReply =
  | { kind: 'text'; text: string }
  /**
   * A text answer streamed in these pieces; piece i is sent once `gates[i]` (if any) resolves,
   * so a test sees what the bot shows of a partial answer before releasing the rest. A
   * non-streaming request gets the whole text at once.
   */
  | { kind: 'stream'; chunks: string[]; gates?: (Promise<void> | undefined)[] }
  | { kind: 'tool'; calls: { name: string; arguments: string; id?: string }[]; text?: string }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'hang' }
  | ((request: RecordedRequest) => ScriptedReply);

export interface RecordedRequest {
  readonly body: {
    model: string;
    messages: unknown[];
    tools?: unknown[];
    stream?: boolean;
    [k: string]: unknown;
  };
  readonly headers: Record<string, string | string[] | undefined>;
}

export interface FakeOpenAI {
  /** e.g. http://127.0.0.1:PORT/v1; pass as OPENAI_BASE_URL / baseURL. */
  readonly baseUrl: string;
  /** Every POST /v1/chat/completions, in arrival order (retries included), but probes. */
  readonly requests: RecordedRequest[];
  /**
   * Vision probes (a request with no tools and one user message holding an image, as sandbot
   * sends once per unknown model): kept apart and answered by `answerProbes`, so a test of
   * chat turns sees only its turns' requests and its script is not consumed.
   */
  readonly probes: RecordedRequest[];
  /** Appends to a FIFO; each request consumes one. An empty queue answers a placeholder text. */
  script(...replies: ScriptedReply[]): void;
  /**
   * Behave like a text-only server: while on, a request with an image input is answered 400
   * (as OpenAI answers for a model without vision) and consumes no scripted reply.
   */
  rejectImageInputs(on: boolean): void;
  /** How probes are answered. Default: 400, like a text-only server (so vision stays off). */
  answerProbes(reply: Reply): void;
  /** The token counts sent in each answer that carried usage (probes excepted), in order. */
  readonly reportedUsage: { prompt_tokens: number; completion_tokens: number }[];
  /** Told the timing of every request in `requests` once its answer is finished (bench). */
  onExchange(listener: (exchange: TimedExchange) => void): void;
  close(): Promise<void>;
}

/** When a request had fully arrived and when its answer was finished (performance.now()). */
export interface TimedExchange {
  readonly request: RecordedRequest;
  readonly arrivedAtMs: number;
  readonly answeredAtMs: number;
}

export type Reply = Exclude<ScriptedReply, (request: RecordedRequest) => ScriptedReply>;
type ToolCall = { id: string; type: 'function'; function: { name: string; arguments: string } };

const MODEL_ID = 'fake-model';

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const queue: ScriptedReply[] = [];
  const requests: RecordedRequest[] = [];
  let counter = 0;
  let textOnly = false;
  const probes: RecordedRequest[] = [];
  let probeReply: Reply = { kind: 'status', status: 400 };
  const exchangeListeners: ((exchange: TimedExchange) => void)[] = [];
  const reportedUsage: FakeOpenAI['reportedUsage'] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A throwing function reply must fail the request, not the test process.
      if (!res.headersSent) sendError(res, 500, String(err));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, {
        object: 'list',
        data: [{ id: MODEL_ID, object: 'model', created: 0, owned_by: 'fake' }],
      });
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      sendError(res, 404, `no route for ${req.method ?? '?'} ${path}`);
      return;
    }
    const raw = await readBody(req);
    // Stamped once the request is all here, before this fake's own parsing: timing figures
    // (bench/turn-overhead-bench.ts) count the bot's time, not the fake's.
    const arrivedAtMs = performance.now();
    const body = parseBody(raw);
    if (!body) {
      sendError(res, 400, 'body must be JSON with a string model and a messages array');
      return;
    }
    const request: RecordedRequest = { body, headers: { ...req.headers } };
    if (isVisionProbe(body)) {
      probes.push(request);
      counter += 1;
      const reply: Reply = textOnly ? { kind: 'status', status: 400 } : probeReply;
      await answer(res, request, reply, `chatcmpl-fake-${counter}`);
      return;
    }
    requests.push(request);
    timeExchange(res, request, arrivedAtMs, exchangeListeners);
    if (textOnly && hasImageInput(body.messages)) {
      sendError(res, 400, 'Invalid content type. image_url is only supported by certain models.');
      return;
    }

    let reply = queue.shift() ?? { kind: 'text', text: '(no scripted reply)' };
    while (typeof reply === 'function') reply = reply(request);
    counter += 1;
    await answer(res, request, reply, `chatcmpl-fake-${counter}`);
  }

  async function answer(
    res: ServerResponse,
    request: RecordedRequest,
    reply: Reply,
    id: string,
  ): Promise<void> {
    if (reply.kind === 'hang') return; // close() destroys the socket.
    if (reply.kind === 'status') {
      const body = reply.body ?? errorBody(reply.status, `scripted status ${reply.status}`);
      sendJson(res, reply.status, body, reply.headers);
      return;
    }
    const text =
      reply.kind === 'text'
        ? reply.text
        : reply.kind === 'stream'
          ? reply.chunks.join('')
          : (reply.text ?? null);
    const toolCalls: ToolCall[] =
      reply.kind === 'tool'
        ? reply.calls.map((c, i) => ({
            id: c.id ?? `call_fake_${counter}_${i}`,
            type: 'function',
            function: { name: c.name, arguments: c.arguments },
          }))
        : [];
    const finishReason = toolCalls.length > 0 ? 'tool_calls' : 'stop';
    const created = Math.floor(Date.now() / 1000);
    const model = request.body.model;
    const usage = estimateUsage(request, text, toolCalls);

    if (request.body.stream !== true) {
      const message = {
        role: 'assistant',
        content: text,
        refusal: null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      };
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
        usage,
      });
      return;
    }

    // Streaming mirrors OpenAI: a role chunk, content pieces, then per tool call a first delta
    // carrying index+id+type+name with empty arguments and further deltas carrying only
    // index+argument pieces, then an empty delta with finish_reason. The client's stream helper
    // rejects tool calls whose first delta lacks `type`, so it is always sent.
    const chunk = (delta: object, finish: string | null = null): object => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
    const chunks: object[] = [chunk({ role: 'assistant', content: '' })];
    /** Index in `chunks` of each gated piece of a 'stream' reply, and its gate. */
    const gates = new Map<number, Promise<void>>();
    if (reply.kind === 'stream') {
      reply.chunks.forEach((piece, i) => {
        const gate = reply.gates?.[i];
        if (gate !== undefined) gates.set(chunks.length, gate);
        chunks.push(chunk({ content: piece }));
      });
    } else {
      for (const piece of pieces(text ?? '')) chunks.push(chunk({ content: piece }));
    }
    toolCalls.forEach((call, index) => {
      const { name, arguments: args } = call.function;
      const head = { index, id: call.id, type: 'function', function: { name, arguments: '' } };
      chunks.push(chunk({ tool_calls: [head] }));
      for (const piece of pieces(args)) {
        chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
      }
    });
    chunks.push(chunk({}, finishReason));
    // With stream_options.include_usage OpenAI ends with a choice-less chunk carrying usage.
    const options = request.body['stream_options'] as { include_usage?: boolean } | undefined;
    if (options?.include_usage === true) {
      if (!isVisionProbe(request.body)) reportedUsage.push(usage);
      chunks.push({ id, object: 'chat.completion.chunk', created, model, choices: [], usage });
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const [index, c] of chunks.entries()) {
      const gate = gates.get(index);
      if (gate !== undefined) await gate;
      if (res.destroyed) return; // The client gave up (or the server closed) while it waited.
      res.write(`data: ${JSON.stringify(c)}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...replies) => void queue.push(...replies),
    rejectImageInputs: (on) => {
      textOnly = on;
    },
    probes,
    reportedUsage,
    answerProbes: (reply) => {
      probeReply = reply;
    },
    onExchange: (listener) => void exchangeListeners.push(listener),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // close() alone waits for keep-alive and hanging requests; destroy them now.
        server.closeAllConnections();
      }),
  };
}

/** Tells `listeners` when the answer to `request` has been handed to the socket in full. */
function timeExchange(
  res: ServerResponse,
  request: RecordedRequest,
  arrivedAtMs: number,
  listeners: readonly ((exchange: TimedExchange) => void)[],
): void {
  if (listeners.length === 0) return;
  res.once('finish', () => {
    const exchange = { request, arrivedAtMs, answeredAtMs: performance.now() };
    for (const listener of listeners) listener(exchange);
  });
}

function isVisionProbe(body: RecordedRequest['body']): boolean {
  return body.tools === undefined && body.messages.length === 1 && hasImageInput(body.messages);
}

/** True when a message has an `image_url` content part. */
export function hasImageInput(messages: readonly unknown[]): boolean {
  return messages.some((message) => {
    const content = (message as { content?: unknown }).content;
    return (
      Array.isArray(content) &&
      content.some((part) => (part as { type?: unknown }).type === 'image_url')
    );
  });
}

/** Splits into up to three pieces by code point, so multi-byte text is never cut in half. */
function pieces(s: string): string[] {
  const chars = Array.from(s);
  const size = Math.max(1, Math.ceil(chars.length / 3));
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

/** Rough, deterministic token counts (about four characters a token). */
function estimateUsage(request: RecordedRequest, text: string | null, calls: ToolCall[]) {
  const prompt = Math.ceil(JSON.stringify(request.body.messages).length / 4);
  const completion = Math.ceil(((text ?? '').length + JSON.stringify(calls).length) / 4);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
}

function errorBody(status: number, message: string): object {
  const type =
    status === 429
      ? 'rate_limit_exceeded'
      : status >= 500
        ? 'server_error'
        : 'invalid_request_error';
  return { error: { message, type, code: status === 429 ? 'rate_limit_exceeded' : null } };
}

function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, errorBody(status, message));
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { ...headers, 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function parseBody(raw: string): RecordedRequest['body'] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const body = value as Record<string, unknown>;
  if (typeof body['model'] !== 'string' || !Array.isArray(body['messages'])) return undefined;
  return body as RecordedRequest['body'];
}
