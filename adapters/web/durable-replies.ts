import type { ChatAdapter } from '../../src/core/chat-adapter.ts';
import type { Logger } from '../../src/logging/logger.ts';
import type { EventHub } from './event-hub.ts';
import type { ThreadStore } from './thread-store.ts';
import { webThreadReply } from './web-thread-reply.ts';

export interface PlaygroundRepliesDeps {
  readonly store: ThreadStore;
  readonly hub: EventHub;
  readonly logger: Logger;
}

/**
 * What a durable turn needs of the playground: its reply rebuilt from the address
 * (`{ surface: 'web', threadId, messageId }`) on this process's thread store and event hub,
 * and an upload read again by its id. With Redis every replica's store holds every thread,
 * so any replica answers any playground turn; with a store of this process only, a thread it
 * has never seen is not this adapter's to answer: replyFor says undefined.
 */
export function playgroundReplies(
  deps: PlaygroundRepliesDeps,
): Required<Pick<ChatAdapter, 'replyFor' | 'fetchAttachment'>> {
  const { store, hub, logger } = deps;
  return {
    replyFor(address, resume) {
      const { surface, threadId, messageId } = address;
      if (surface !== 'web' || typeof threadId !== 'string' || typeof messageId !== 'string') {
        return undefined;
      }
      if (!store.mayHold(threadId)) return undefined;
      return webThreadReply({
        threadId,
        messageId,
        store,
        hub,
        logger,
        // The live status is keyed by the message: a recorded one means the turn had begun.
        resumed: resume.progressMessageId !== undefined,
      });
    },
    async fetchAttachment(ref) {
      const file = await store.file(ref);
      // Gone (over the file budget) or never kept (over the upload limit).
      if (file === undefined) throw new Error(`no playground upload ${ref}`);
      return file.content;
    },
  };
}
