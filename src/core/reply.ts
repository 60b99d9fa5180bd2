import type { TableData } from './table-data.ts';

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
  /** What the cells showed the user besides images and files, as data each surface draws in
   *  its own way (src/render/render-reply.ts); absent: none. */
  readonly displays?: readonly ReplyDisplay[];
}

/**
 * One rich display of a cell. A table comes with its CSV when the sandbox sent one (the whole
 * table, or its first `csvRows` rows); a surface that shows fewer rows or columns attaches it.
 * LaTeX is here only when the sandbox could not draw it (then it is an image instead).
 */
export type ReplyDisplay =
  | {
      readonly kind: 'table';
      readonly table: TableData;
      readonly csv?: ReplyAttachment;
      readonly csvRows?: number;
    }
  | { readonly kind: 'markdown'; readonly text: string }
  | { readonly kind: 'json'; readonly text: string }
  | { readonly kind: 'latex'; readonly text: string };

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
  /**
   * The answer of a durable turn, safe to post again after a crash: everything posted carries
   * `key.id` (Slack message metadata, a Discord enforced nonce), and when an earlier runner
   * began posting it (`key.earlierAttemptAt`) the adapter first looks for what that runner
   * posted and posts only the rest.
   * Absent: the turn uses `reply`, and a runner killed between posting and recording the
   * answer makes its successor post it again.
   */
  replyOnce?(reply: Reply, key: AnswerKey): Promise<void>;
}

/** What makes a durable turn's answer recognisable when it is posted again. */
export interface AnswerKey {
  /** The same in every run of one turn; at most 20 characters of [0-9a-z] (with a part
   *  number it still fits a Discord nonce's 25). */
  readonly id: string;
  /** When an earlier runner of this turn began posting the answer (ms since the epoch; it
   *  may have posted some of it); absent when none did. */
  readonly earlierAttemptAt?: number;
}

export function textReply(text: string, notices: readonly string[] = []): Reply {
  return { text, code: [], images: [], files: [], notices };
}
