import { randomUUID } from 'node:crypto';
import type { Reply, ReplyAttachment } from '../../src/core/reply.ts';

/** A file the page can download by id: an upload, a plot, a produced file, an export. */
export interface FileRef {
  readonly id: string;
  readonly name: string;
  readonly mime: string;
  readonly sizeBytes: number;
}

interface StoredFile extends FileRef {
  /** Undefined for an upload over the size limit: only its size was counted, the core refuses
   *  it with its own message. */
  readonly content: Buffer | undefined;
}

export type ThreadItem =
  | {
      readonly kind: 'user';
      readonly id: string;
      readonly at: number;
      readonly text: string;
      readonly attachments: readonly FileRef[];
    }
  | {
      readonly kind: 'bot';
      readonly id: string;
      readonly at: number;
      /** The user message this answers. */
      readonly replyTo: string;
      /** Markdown. */
      readonly text: string;
      readonly code: readonly string[];
      readonly images: readonly FileRef[];
      readonly files: readonly FileRef[];
      readonly notices: readonly string[];
    };

export interface ThreadSummary {
  readonly id: string;
  readonly title: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Messages sent and not yet answered: the page shows Stop while this is above 0. */
  readonly pending: number;
  /** Grows with every change, so a page can tell which of two crossing copies is newer. */
  readonly version: number;
}

export interface ThreadView extends ThreadSummary {
  readonly items: readonly ThreadItem[];
  /** The live status of the running turn (Markdown), if any. */
  readonly progress: string | undefined;
}

interface Thread {
  readonly id: string;
  title: string;
  readonly createdAt: number;
  updatedAt: number;
  version: number;
  readonly items: ThreadItem[];
  readonly answered: Set<string>;
  /** Uploads waiting for the next message, by file id. */
  readonly uploads: Set<string>;
  progress: { messageId: string; text: string } | undefined;
}

const TITLE_CHARS = 60;
/**
 * Bytes of files (uploads, plots, produced files, exports) the playground keeps in memory.
 * Beyond it the oldest files are forgotten (their links answer 404), so a long-running bot
 * cannot grow without bound; messages and text stay.
 */
export const FILE_BUDGET_BYTES = 512 * 1024 * 1024;

/**
 * The playground's memory: threads, their messages and rendered answers, and every file
 * shown in them, so a page reload shows a thread again. It lives as long as the process,
 * like the embedded core's sessions.
 */
export class ThreadStore {
  private readonly threads = new Map<string, Thread>();
  /** Insertion order is age order, which is what eviction needs. */
  private readonly files = new Map<string, StoredFile>();
  private fileBytes = 0;
  private readonly fileBudgetBytes: number;

  constructor(fileBudgetBytes = FILE_BUDGET_BYTES) {
    this.fileBudgetBytes = fileBudgetBytes;
  }

  create(): ThreadSummary {
    const now = Date.now();
    const thread: Thread = {
      id: randomUUID(),
      title: 'New thread',
      createdAt: now,
      updatedAt: now,
      version: 0,
      items: [],
      answered: new Set(),
      uploads: new Set(),
      progress: undefined,
    };
    this.threads.set(thread.id, thread);
    return summary(thread);
  }

  has(threadId: string): boolean {
    return this.threads.has(threadId);
  }

  /** Newest activity first. */
  list(): ThreadSummary[] {
    return [...this.threads.values()].map(summary).sort((a, b) => b.updatedAt - a.updatedAt);
  }

  get(threadId: string): ThreadView | undefined {
    const thread = this.threads.get(threadId);
    if (thread === undefined) return undefined;
    return { ...summary(thread), items: [...thread.items], progress: thread.progress?.text };
  }

  summary(threadId: string): ThreadSummary | undefined {
    const thread = this.threads.get(threadId);
    return thread === undefined ? undefined : summary(thread);
  }

  /** Keeps an upload until a message of the same thread takes it. */
  addUpload(
    threadId: string,
    file: { name: string; mime: string; sizeBytes: number; content: Buffer | undefined },
  ): FileRef {
    const thread = this.thread(threadId);
    const stored: StoredFile = { id: randomUUID(), ...file };
    this.remember(stored);
    thread.uploads.add(stored.id);
    return refOf(stored);
  }

  /**
   * The thread's pending uploads with these ids, removed from the pending set; unknown ids
   * and other threads' uploads are skipped.
   */
  takeUploads(
    threadId: string,
    ids: readonly string[],
  ): { ref: FileRef; content: Buffer | undefined }[] {
    const thread = this.thread(threadId);
    const taken: { ref: FileRef; content: Buffer | undefined }[] = [];
    for (const id of ids) {
      const file = this.files.get(id);
      if (file === undefined || !thread.uploads.delete(id)) continue;
      taken.push({ ref: refOf(file), content: file.content });
    }
    return taken;
  }

  addUserMessage(threadId: string, text: string, attachments: readonly FileRef[]): ThreadItem {
    const thread = this.thread(threadId);
    const item: ThreadItem = { kind: 'user', id: randomUUID(), at: Date.now(), text, attachments };
    thread.items.push(item);
    if (thread.items.filter((i) => i.kind === 'user').length === 1) {
      thread.title = titleOf(text, attachments);
    }
    thread.updatedAt = item.at;
    thread.version += 1;
    return item;
  }

  /** Stores the answer; `clearedProgress` says the live status of its turn went with it. */
  addReply(
    threadId: string,
    replyTo: string,
    reply: Reply,
  ): { item: ThreadItem; clearedProgress: boolean } {
    const thread = this.thread(threadId);
    const item: ThreadItem = {
      kind: 'bot',
      id: randomUUID(),
      at: Date.now(),
      replyTo,
      text: reply.text,
      code: [...reply.code],
      images: reply.images.map((a) => this.keep(a)),
      files: reply.files.map((a) => this.keep(a)),
      notices: [...reply.notices],
    };
    thread.items.push(item);
    thread.answered.add(replyTo);
    const clearedProgress = thread.progress?.messageId === replyTo;
    if (clearedProgress) thread.progress = undefined;
    thread.updatedAt = item.at;
    thread.version += 1;
    return { item, clearedProgress };
  }

  /** Sets the live status shown for a message's turn; false when it is already answered. */
  setProgress(threadId: string, messageId: string, text: string): boolean {
    const thread = this.thread(threadId);
    if (thread.answered.has(messageId)) return false;
    thread.progress = { messageId, text };
    return true;
  }

  file(fileId: string): (FileRef & { content: Buffer }) | undefined {
    const file = this.files.get(fileId);
    if (file?.content === undefined) return undefined;
    return { ...refOf(file), content: file.content };
  }

  private keep(attachment: ReplyAttachment): FileRef {
    const stored: StoredFile = {
      id: randomUUID(),
      name: attachment.name,
      mime: attachment.mime,
      sizeBytes: attachment.content.length,
      content: attachment.content,
    };
    this.remember(stored);
    return refOf(stored);
  }

  private remember(file: StoredFile): void {
    this.files.set(file.id, file);
    this.fileBytes += file.content?.length ?? 0;
    for (const [id, old] of this.files) {
      if (this.fileBytes <= this.fileBudgetBytes || id === file.id) break;
      this.files.delete(id);
      this.fileBytes -= old.content?.length ?? 0;
    }
  }

  private thread(threadId: string): Thread {
    const thread = this.threads.get(threadId);
    if (thread === undefined) throw new Error(`no playground thread ${threadId}`);
    return thread;
  }
}

function summary(thread: Thread): ThreadSummary {
  const sent = thread.items.filter((i) => i.kind === 'user').length;
  return {
    id: thread.id,
    title: thread.title,
    createdAt: thread.createdAt,
    updatedAt: thread.updatedAt,
    pending: sent - thread.answered.size,
    version: thread.version,
  };
}

function refOf(file: StoredFile): FileRef {
  return { id: file.id, name: file.name, mime: file.mime, sizeBytes: file.sizeBytes };
}

function titleOf(text: string, attachments: readonly FileRef[]): string {
  const line = text.trim().split('\n')[0]?.trim() ?? '';
  const title = line !== '' ? line : (attachments[0]?.name ?? 'New thread');
  return title.length > TITLE_CHARS ? `${title.slice(0, TITLE_CHARS - 1)}…` : title;
}
