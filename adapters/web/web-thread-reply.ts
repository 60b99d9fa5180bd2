import type { Progress, Reply, ReplyAddress, ThreadReply } from '../../src/core/reply.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { LiveProgress } from '../../src/render/live-progress.ts';
import type { EventHub } from './event-hub.ts';
import type { ThreadStore } from './thread-store.ts';

/** A browser on loopback takes updates as fast as they come; this only batches bursts. */
const PROGRESS_INTERVAL_MS = 200;
const PROGRESS_MAX_CHARS = 8000;
/** The live status of a resumed turn until it shows its own, and the line under it after. */
const RESUMED_TEXT = '⏳ Resumed after a restart: working on it again…';
const RESUMED_NOTE = '_↻ This turn was resumed after a restart._';

/** Where a playground turn is answered: the thread, and the message the answer replies to. */
export interface WebReplyAddress extends ReplyAddress {
  readonly surface: 'web';
  readonly threadId: string;
  /** The user's message item; it also keys the thread's live status (its progress message). */
  readonly messageId: string;
}

export interface WebThreadReplyOptions {
  readonly threadId: string;
  readonly messageId: string;
  readonly store: ThreadStore;
  readonly hub: EventHub;
  readonly logger: Logger;
  /** A turn resumed after its first runner died: the status says so. */
  readonly resumed?: boolean;
}

/**
 * Where the core answers one playground message: progress becomes the live status of the
 * thread, the reply becomes a stored answer, each pushed to open pages as it happens.
 *
 * The Reply is kept whole rather than split by renderReply: a web page has no message length
 * or attachment count to respect, and keeping text, code, images and files apart lets the
 * page show the code collapsible and the images inline.
 */
export function webThreadReply(options: WebThreadReplyOptions): ThreadReply {
  const { threadId, messageId, store, hub } = options;
  const resumed = options.resumed === true;
  const listeners: ((id: string) => void)[] = [];
  let statusShown = false;
  const show = (status: string) => {
    const text = resumed ? `${status}\n\n${RESUMED_NOTE}` : status;
    if (!store.setProgress(threadId, messageId, text)) return;
    hub.publish({ type: 'progress', threadId, text });
    if (statusShown) return;
    statusShown = true;
    // The status is keyed by the message it answers, so that id names it.
    for (const listener of listeners) listener(messageId);
  };
  const live = new LiveProgress({
    intervalMs: PROGRESS_INTERVAL_MS,
    maxChars: PROGRESS_MAX_CHARS,
    show: (text) => {
      show(text);
      return Promise.resolve();
    },
    onError: (error) => options.logger.warn({ err: error }, 'playground progress failed'),
  });
  if (resumed) show(RESUMED_TEXT);
  let replied = false;
  const address: WebReplyAddress = { surface: 'web', threadId, messageId };
  return {
    address,
    onProgressMessage(listener) {
      listeners.push(listener);
    },
    progress(update: Progress) {
      live.update(update);
    },
    async reply(reply: Reply) {
      // Once per message: a failure path that answers again, or a resumed turn whose first
      // runner had stored the answer before it died, must not answer twice.
      if (replied || answered(store, threadId, messageId)) return;
      replied = true;
      await live.close();
      const { item, clearedProgress } = store.addReply(threadId, messageId, reply);
      hub.publish({ type: 'item', threadId, item });
      if (clearedProgress) hub.publish({ type: 'progress', threadId, text: null });
      const summary = store.summary(threadId);
      if (summary !== undefined) hub.publish({ type: 'thread', thread: summary });
    },
  };
}

function answered(store: ThreadStore, threadId: string, messageId: string): boolean {
  const items = store.get(threadId)?.items ?? [];
  return items.some((item) => item.kind === 'bot' && item.replyTo === messageId);
}
