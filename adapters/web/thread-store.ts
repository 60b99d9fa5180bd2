import { randomUUID } from 'node:crypto';
import type { PlaygroundFile, PlaygroundStore } from '../../src/core/playground-store.ts';
import type { Reply, ReplyAttachment } from '../../src/core/reply.ts';
import type { TableData } from '../../src/core/table-data.ts';
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
      /** Tables (as data, with their CSV as a file), Markdown, JSON, LaTeX; absent: none. */
      readonly displays?: readonly WebDisplay[];
    };

/** A display as the page draws it (adapters/web/public/message-view.js): never HTML. */
export type WebDisplay =
  | {
      readonly kind: 'table';
      readonly table: TableData;
      readonly csv?: FileRef;
      readonly csvRows?: number;
    }
  | { readonly kind: 'markdown' | 'json' | 'latex'; readonly text: string };

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
}

const TITLE_CHARS = 60;

/**
 * The playground's memory: threads, their messages and rendered answers, every file shown in
 * them, and the live status of running turns, so a page reload (on any replica) shows a
 * thread again. Nothing is held here: every read and change goes to `store` (memory, the
 * SQLite file of the embedded mode, or Redis shared by every replica), and a change is one
 * atomic read-modify-write of the thread, so replicas changing one thread lose nothing.
 */
export class ThreadStore {
  private readonly store: PlaygroundStore;
  /** Threads this process has seen; see `mayHold`. */
  private readonly known = new Set<string>();

  constructor(store: PlaygroundStore = new MemoryPlaygroundStore()) {
    this.store = store;
    // Only `mayHold` needs these, and only for a store no other process writes.
    if (!store.shared) {
      void store.threads().then(
        (records) => records.forEach((record) => this.learn(threadFromRecord(record))),
        () => undefined,
      );
    }
  }

  /**
   * Whether this thread may be in the store, answered without waiting: always with a shared
   * store (another replica may have created it), else when this process has seen it.
   */
  mayHold(threadId: string): boolean {
    return this.store.shared || this.known.has(threadId);
  }

  async create(): Promise<ThreadSummary> {
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
    };
    const record = threadRecord(thread);
    await this.store.updateThread(thread.id, (current) => current ?? record);
    this.learn(thread);
    return summary(thread);
  }

  /** Newest activity first. */
  async list(): Promise<ThreadSummary[]> {
    const threads: Thread[] = [];
    for (const record of await this.store.threads()) {
      const thread = threadFromRecord(record);
      if (thread !== undefined) threads.push(this.learn(thread));
    }
    return threads.map(summary).sort((a, b) => b.updatedAt - a.updatedAt);
  }

  async get(threadId: string): Promise<ThreadView | undefined> {
    const [record, progress] = await Promise.all([
      this.store.thread(threadId),
      this.store.progress(threadId),
    ]);
    const thread = threadFromRecord(record);
    if (thread === undefined) return undefined;
    this.learn(thread);
    const live = progress !== undefined && !thread.answered.has(progress.messageId);
    return {
      ...summary(thread),
      items: [...thread.items],
      progress: live ? progress.text : undefined,
    };
  }

  async summary(threadId: string): Promise<ThreadSummary | undefined> {
    const thread = threadFromRecord(await this.store.thread(threadId));
    return thread === undefined ? undefined : summary(thread);
  }

  /** Keeps an upload until a message of the same thread takes it. */
  async addUpload(
    threadId: string,
    file: { name: string; mime: string; sizeBytes: number; content: Buffer | undefined },
  ): Promise<FileRef> {
    const stored: PlaygroundFile = { id: randomUUID(), ...file };
    await this.store.addFile(stored);
    await this.change(threadId, (thread) => thread.uploads.add(stored.id));
    return refOf(stored);
  }

  /**
   * The thread's pending uploads with these ids, removed from the pending set; unknown ids
   * and other threads' uploads are skipped.
   */
  async takeUploads(
    threadId: string,
    ids: readonly string[],
  ): Promise<{ ref: FileRef; content: Buffer | undefined }[]> {
    const { result: takenIds } = await this.change(threadId, (thread) =>
      ids.filter((id) => thread.uploads.delete(id)),
    );
    const taken: { ref: FileRef; content: Buffer | undefined }[] = [];
    for (const id of takenIds) {
      const file = await this.store.file(id);
      if (file !== undefined) taken.push({ ref: refOf(file), content: file.content });
    }
    return taken;
  }

  /** Adds the message; the thread as this change left it comes with it (its version orders
   *  the thread's messages, whichever replica took them). */
  async addUserMessage(
    threadId: string,
    text: string,
    attachments: readonly FileRef[],
  ): Promise<{ item: ThreadItem; thread: ThreadSummary }> {
    const item: ThreadItem = { kind: 'user', id: randomUUID(), at: Date.now(), text, attachments };
    const { thread } = await this.change(threadId, (changed) => {
      changed.items.push(item);
      if (changed.items.filter((i) => i.kind === 'user').length === 1) {
        changed.title = titleOf(text, attachments);
      }
      changed.updatedAt = item.at;
      changed.version += 1;
    });
    return { item, thread: summary(thread) };
  }

  /**
   * Stores the answer, once per message: undefined when the message already has one (or its
   * thread is gone). `clearedProgress` says the live status of its turn went with it.
   */
  async addReply(
    threadId: string,
    replyTo: string,
    reply: Reply,
  ): Promise<{ item: ThreadItem; thread: ThreadSummary; clearedProgress: boolean } | undefined> {
    const images: FileRef[] = [];
    for (const image of reply.images) images.push(await this.keep(image));
    const files: FileRef[] = [];
    for (const file of reply.files) files.push(await this.keep(file));
    const displays: WebDisplay[] = [];
    for (const display of reply.displays ?? []) {
      if (display.kind !== 'table') {
        displays.push(display);
        continue;
      }
      const { csv, ...table } = display;
      displays.push(csv === undefined ? table : { ...table, csv: await this.keep(csv) });
    }
    const item: ThreadItem = {
      kind: 'bot',
      id: randomUUID(),
      at: Date.now(),
      replyTo,
      text: reply.text,
      code: [...reply.code],
      images,
      files,
      notices: [...reply.notices],
      ...(displays.length === 0 ? {} : { displays }),
    };
    const changed = await this.tryChange(threadId, (thread) => {
      if (thread.answered.has(replyTo)) return false;
      thread.items.push(item);
      thread.answered.add(replyTo);
      thread.updatedAt = item.at;
      thread.version += 1;
      return true;
    });
    if (changed?.result !== true) return undefined;
    const clearedProgress = await this.store.clearProgress(threadId, replyTo);
    return { item, thread: summary(changed.thread), clearedProgress };
  }

  /** Sets the live status shown for a message's turn; false when it is already answered. */
  async setProgress(threadId: string, messageId: string, text: string): Promise<boolean> {
    const thread = threadFromRecord(await this.store.thread(threadId));
    if (thread === undefined || thread.answered.has(messageId)) return false;
    await this.store.setProgress(threadId, { messageId, text });
    return true;
  }

  async file(fileId: string): Promise<(FileRef & { content: Buffer }) | undefined> {
    const file = await this.store.file(fileId);
    if (file?.content === undefined) return undefined;
    return { ...refOf(file), content: file.content };
  }

  private async keep(attachment: ReplyAttachment): Promise<FileRef> {
    const stored: PlaygroundFile = {
      id: randomUUID(),
      name: attachment.name,
      mime: attachment.mime,
      sizeBytes: attachment.content.length,
      content: attachment.content,
    };
    await this.store.addFile(stored);
    return refOf(stored);
  }

  /** `change` on a thread that must exist (the routes looked it up first). */
  private async change<T>(
    threadId: string,
    apply: (thread: Thread) => T,
  ): Promise<{ thread: Thread; result: T }> {
    const changed = await this.tryChange(threadId, apply);
    if (changed === undefined) throw new Error(`no playground thread ${threadId}`);
    return changed;
  }

  /**
   * Applies `apply` to the stored thread atomically (it may run more than once, on a fresh
   * copy each time, when another replica wrote in between) and writes the thread only if it
   * changed. Undefined when there is no such thread.
   */
  private async tryChange<T>(
    threadId: string,
    apply: (thread: Thread) => T,
  ): Promise<{ thread: Thread; result: T } | undefined> {
    let outcome: { thread: Thread; result: T } | undefined;
    await this.store.updateThread(threadId, (record) => {
      outcome = undefined;
      const thread = threadFromRecord(record);
      if (thread === undefined) return undefined;
      const before = JSON.stringify(threadRecord(thread));
      outcome = { thread, result: apply(thread) };
      const after = threadRecord(thread);
      return JSON.stringify(after) === before ? undefined : after;
    });
    if (outcome !== undefined) this.learn(outcome.thread);
    return outcome;
  }

  private learn<T extends Thread | undefined>(thread: T): T {
    if (thread !== undefined) this.known.add(thread.id);
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
