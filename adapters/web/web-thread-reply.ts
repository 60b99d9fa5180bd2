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
  const { threadId, messageId, store, hub, logger } = options;
  const resumed = options.resumed === true;
  const listeners: ((id: string) => void)[] = [];
  let statusShown = false;
  // One status write at a time, in order: the resumed status must not land after a newer one.
  let showing = Promise.resolve();
  const show = (status: string): Promise<void> => {
    const text = resumed ? `${status}\n\n${RESUMED_NOTE}` : status;
    // A failed write is reported by whoever awaited it; the next one goes ahead regardless.
    showing = showing
      .catch(() => undefined)
      .then(async () => {
        if (!(await store.setProgress(threadId, messageId, text))) return;
        hub.publish({ type: 'progress', threadId, text });
        if (statusShown) return;
        statusShown = true;
        // The status is keyed by the message it answers, so that id names it.
        for (const listener of listeners) listener(messageId);
      });
    return showing;
  };
  const live = new LiveProgress({
    intervalMs: PROGRESS_INTERVAL_MS,
    maxChars: PROGRESS_MAX_CHARS,
    show,
    onError: (error) => logger.warn({ err: error }, 'playground progress failed'),
  });
  if (resumed) {
    show(RESUMED_TEXT).catch((error: unknown) => {
      logger.warn({ err: error }, 'playground progress failed');
    });
  }
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
      // runner had stored the answer before it died, must not answer twice (the store
      // refuses a second answer too, should two replicas ever race).
      if (replied) return;
      replied = true;
      if (await answered(store, threadId, messageId)) return;
      await live.close();
      await showing.catch(() => undefined);
      const added = await store.addReply(threadId, messageId, reply);
      if (added === undefined) {
        logger.warn(
          { threadId, messageId },
          'playground answer not stored: already answered or no such thread',
        );
        return;
      }
      hub.publish({ type: 'item', threadId, item: added.item });
      if (added.clearedProgress) hub.publish({ type: 'progress', threadId, text: null });
      hub.publish({ type: 'thread', thread: added.thread });
    },
  };
}

async function answered(store: ThreadStore, threadId: string, messageId: string): Promise<boolean> {
  const items = (await store.get(threadId))?.items ?? [];
  return items.some((item) => item.kind === 'bot' && item.replyTo === messageId);
}
