import { randomUUID } from 'node:crypto';
import type { PlaygroundFile, PlaygroundStore } from '../../src/core/playground-store.ts';
import type { Reply, ReplyAttachment } from '../../src/core/reply.ts';
import { MemoryPlaygroundStore } from './memory-playground-store.ts';
import { threadFromRecord, threadRecord } from './thread-record.ts';

/** A file the page can download by id: an upload, a plot, a produced file, an export. */
export interface FileRef {
  readonly id: string;
  readonly name: string;
  readonly mime: string;
  readonly sizeBytes: number;
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

export interface Thread {
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
 * The playground's memory: threads, their messages and rendered answers, and every file
 * shown in them, so a page reload shows a thread again. Threads are held here and written
 * through to `store` on every change (the live status of a running turn excepted: a resumed
 * turn shows it again); files live in `store` under its byte budget. With the SQLite store
 * (the embedded mode) a restarted bot reads its threads back; with the memory one they last
 * as long as the process.
 */
export class ThreadStore {
  private readonly threads = new Map<string, Thread>();
  private readonly store: PlaygroundStore;

  constructor(store: PlaygroundStore = new MemoryPlaygroundStore()) {
    this.store = store;
    for (const record of store.threads()) {
      const thread = threadFromRecord(record);
      if (thread !== undefined) this.threads.set(thread.id, thread);
    }
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
    this.save(thread);
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
    const stored: PlaygroundFile = { id: randomUUID(), ...file };
    this.store.addFile(stored);
    thread.uploads.add(stored.id);
    this.save(thread);
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
      if (!thread.uploads.has(id)) continue;
      thread.uploads.delete(id);
      const file = this.store.file(id);
      if (file !== undefined) taken.push({ ref: refOf(file), content: file.content });
    }
    if (taken.length > 0) this.save(thread);
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
    this.save(thread);
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
    this.save(thread);
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
    const file = this.store.file(fileId);
    if (file?.content === undefined) return undefined;
    return { ...refOf(file), content: file.content };
  }

  private keep(attachment: ReplyAttachment): FileRef {
    const stored: PlaygroundFile = {
      id: randomUUID(),
      name: attachment.name,
      mime: attachment.mime,
      sizeBytes: attachment.content.length,
      content: attachment.content,
    };
    this.store.addFile(stored);
    return refOf(stored);
  }

  private save(thread: Thread): void {
    this.store.saveThread(thread.id, threadRecord(thread));
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

function refOf(file: PlaygroundFile): FileRef {
  return { id: file.id, name: file.name, mime: file.mime, sizeBytes: file.sizeBytes };
}

function titleOf(text: string, attachments: readonly FileRef[]): string {
  const line = text.trim().split('\n')[0]?.trim() ?? '';
  const title = line !== '' ? line : (attachments[0]?.name ?? 'New thread');
  return title.length > TITLE_CHARS ? `${title.slice(0, TITLE_CHARS - 1)}…` : title;
}
