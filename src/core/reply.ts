/** A file in a reply (plot, produced file, exported notebook). */
export interface ReplyAttachment {
  readonly name: string;
  readonly content: Buffer;
  readonly mime: string;
}

/**
 * A platform-neutral answer: what each adapter renders within its own limits (see
 * src/render/render-reply.ts, where splitting and truncation happen).
 */
export interface Reply {
  /** The answer, Markdown. */
  readonly text: string;
  /** Code of the cells that ran, in order. */
  readonly code: readonly string[];
  readonly images: readonly ReplyAttachment[];
  readonly files: readonly ReplyAttachment[];
  /** Limits hit, kernel restarted, files refused… */
  readonly notices: readonly string[];
}

export type Progress =
  | { readonly type: 'thinking' }
  | { readonly type: 'running'; readonly code: string }
  | { readonly type: 'output'; readonly text: string }
  | { readonly type: 'answering'; readonly text: string };

/**
 * Where a thread's replies go, as plain data any bot process can turn back into a
 * `ThreadReply` (`ChatAdapter.replyFor`): `surface` names the adapter; the rest is the
 * adapter's own (channel, thread, the message to acknowledge…). Never a secret or a token.
 */
export interface ReplyAddress {
  readonly surface: string;
  readonly [field: string]: string | number | boolean | undefined;
}

/** What a resumed turn knows of the reply its first runner had begun. */
export interface ReplyResume {
  /** The progress message the first runner posted (to be edited or removed, not left). */
  readonly progressMessageId?: string;
}

/** Where a conversation sends what it has to say about one message (the adapter's side). */
export interface ThreadReply {
  /** Where this reply goes, so another process can rebuild it; absent: only this process. */
  readonly address?: ReplyAddress;
  /**
   * Called by the adapter when it posts its progress message, with that message's id, so a
   * durable turn can record it (a resumed turn then edits or removes it).
   */
  onProgressMessage?(listener: (messageId: string) => void): void;
  /** Progress while the turn runs; adapters show it at a rate their platform allows. */
  progress(update: Progress): void;
  /** The answer. Called once per message. */
  reply(reply: Reply): Promise<void>;
}

export function textReply(text: string, notices: readonly string[] = []): Reply {
  return { text, code: [], images: [], files: [], notices };
}
