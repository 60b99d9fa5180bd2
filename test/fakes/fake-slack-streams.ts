/**
 * Slack's streaming message API in the fake (chat.startStream, chat.appendStream,
 * chat.stopStream), as its reference describes it: a stream is a message in a thread whose
 * text grows with each `markdown_text` (at most 12,000 characters a call) and whose `chunks`
 * may carry task updates; outside a DM it needs `recipient_user_id` and `recipient_team_id`;
 * appending to a stopped or unknown stream is refused; `chat.stopStream` may add the last
 * text, `blocks` shown at the bottom, and `metadata`. Off by default (a workspace or app
 * without it answers `unknown_method`), so a test that wants it turns it on.
 */
import type { FakeMessage } from './fake-slack-workspace.ts';

type Args = Record<string, unknown>;
type Answer = { ok: true; [k: string]: unknown } | { ok: false; error: string };

/** A stream's own state beside its message. */
export interface FakeStream {
  readonly message: FakeMessage;
  readonly recipientUserId: string | undefined;
  /** Every chunk sent, in order (markdown_text and task_update objects). */
  readonly chunks: Record<string, unknown>[];
  /** Each call's markdown, in order: what the person saw arrive. */
  readonly appends: string[];
  stopped: boolean;
}

const MAX_MARKDOWN_CHARS = 12_000;

export class FakeSlackStreams {
  /** Whether the workspace offers streaming; off answers `unknown_method`, like Slack. */
  available = false;
  /** Answer every streaming call with this error instead (e.g. `not_allowed`). */
  refuseWith: string | undefined;
  readonly streams: FakeStream[] = [];
  private readonly post: (message: Omit<FakeMessage, 'ts'>) => FakeMessage;

  constructor(post: (message: Omit<FakeMessage, 'ts'>) => FakeMessage) {
    this.post = post;
  }

  handles(method: string): boolean {
    return (
      method === 'chat.startStream' ||
      method === 'chat.appendStream' ||
      method === 'chat.stopStream'
    );
  }

  call(method: string, args: Args): Answer {
    if (!this.available) return refuse('unknown_method');
    if (this.refuseWith !== undefined) return refuse(this.refuseWith);
    if (method === 'chat.startStream') return this.start(args);
    const stream = this.streams.find(
      (s) => s.message.channel === args.channel && s.message.ts === args.ts,
    );
    if (stream === undefined) return refuse('message_not_found');
    if (stream.stopped) return refuse('message_not_in_streaming_state');
    const problem = this.add(stream, args);
    if (problem !== undefined) return refuse(problem);
    if (method === 'chat.stopStream') {
      stream.stopped = true;
      if (Array.isArray(args.blocks)) stream.message.blocks = args.blocks as unknown[];
    }
    return { ok: true, channel: stream.message.channel, ts: stream.message.ts };
  }

  private start(args: Args): Answer {
    const channel = typeof args.channel === 'string' ? args.channel : undefined;
    if (channel === undefined) return refuse('channel_not_found');
    const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : undefined;
    const inDm = channel.startsWith('D');
    const recipient =
      typeof args.recipient_user_id === 'string' ? args.recipient_user_id : undefined;
    if (!inDm && (recipient === undefined || typeof args.recipient_team_id !== 'string'))
      return refuse('invalid_arguments');
    const message = this.post({
      channel,
      threadTs,
      text: '',
      blocks: undefined,
      files: [],
      deleted: false,
      edits: 0,
    });
    const stream: FakeStream = {
      message,
      recipientUserId: recipient,
      chunks: [],
      appends: [],
      stopped: false,
    };
    const problem = this.add(stream, args);
    if (problem !== undefined) return refuse(problem);
    this.streams.push(stream);
    return { ok: true, channel, ts: message.ts };
  }

  /** The call's markdown and chunks added to the stream; an error code when refused. */
  private add(stream: FakeStream, args: Args): string | undefined {
    const markdown = typeof args.markdown_text === 'string' ? args.markdown_text : '';
    if (markdown.length > MAX_MARKDOWN_CHARS) return 'msg_too_long';
    const chunks = Array.isArray(args.chunks) ? (args.chunks as Record<string, unknown>[]) : [];
    for (const chunk of chunks) {
      if (chunk.type === 'task_update') {
        const status = chunk.status;
        if (typeof chunk.id !== 'string' || typeof chunk.title !== 'string')
          return 'invalid_chunks';
        if (!['pending', 'in_progress', 'complete', 'error'].includes(String(status)))
          return 'invalid_chunks';
      } else if (chunk.type !== 'markdown_text' || typeof chunk.text !== 'string') {
        return 'invalid_chunks';
      }
    }
    const text =
      markdown + chunks.map((c) => (c.type === 'markdown_text' ? String(c.text) : '')).join('');
    stream.chunks.push(...chunks);
    if (text !== '') {
      stream.appends.push(text);
      stream.message.text += text;
      stream.message.edits += 1;
    }
    return undefined;
  }
}

function refuse(error: string): Answer {
  return { ok: false, error };
}
