import type { Progress, Reply, ThreadReply } from '../../src/core/reply.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { LiveProgress } from '../../src/render/live-progress.ts';
import type { EventHub } from './event-hub.ts';
import type { ThreadStore } from './thread-store.ts';

/** A browser on loopback takes updates as fast as they come; this only batches bursts. */
const PROGRESS_INTERVAL_MS = 200;
const PROGRESS_MAX_CHARS = 8000;

/**
 * Where the core answers one playground message: progress becomes the live status of the
 * thread, the reply becomes a stored answer, each pushed to open pages as it happens.
 *
 * The Reply is kept whole rather than split by renderReply: a web page has no message length
 * or attachment count to respect, and keeping text, code, images and files apart lets the
 * page show the code collapsible and the images inline.
 */
export function webThreadReply(options: {
  readonly threadId: string;
  readonly messageId: string;
  readonly store: ThreadStore;
  readonly hub: EventHub;
  readonly logger: Logger;
}): ThreadReply {
  const { threadId, messageId, store, hub } = options;
  const live = new LiveProgress({
    intervalMs: PROGRESS_INTERVAL_MS,
    maxChars: PROGRESS_MAX_CHARS,
    show: (text) => {
      if (store.setProgress(threadId, messageId, text)) {
        hub.publish({ type: 'progress', threadId, text });
      }
      return Promise.resolve();
    },
    onError: (error) => options.logger.warn({ err: error }, 'playground progress failed'),
  });
  let replied = false;
  return {
    progress(update: Progress) {
      live.update(update);
    },
    async reply(reply: Reply) {
      // Once per message: a failure path that answers again must not answer twice.
      if (replied) return;
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
