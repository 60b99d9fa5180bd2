import type { ConversationPort } from '../../src/core/chat-adapter.ts';
import type { InboundMessage } from '../../src/core/inbound-message.ts';
import { textReply } from '../../src/core/reply.ts';
import type { Logger } from '../../src/logging/logger.ts';
import type { EventHub } from './event-hub.ts';
import type { ThreadItem, ThreadStore, ThreadSummary } from './thread-store.ts';
import { webThreadReply } from './web-thread-reply.ts';

/** The playground is one local user in one workspace; each page thread is a session. */
export const PLAYGROUND_AUTHOR = { id: 'local', name: 'you' } as const;

export function playgroundSessionKey(threadId: string): string {
  return `web:local:playground:${threadId}`;
}

export interface SendMessageDeps {
  readonly conversation: ConversationPort;
  readonly store: ThreadStore;
  readonly hub: EventHub;
  readonly logger: Logger;
}

/**
 * Records a message the page sent (with the uploads it names) and hands it to the core. The
 * core queues turns per thread in the thread's order, so messages run in the order they were
 * stored; this returns once the message is stored and the answer arrives over the event
 * stream.
 */
export async function sendMessage(
  deps: SendMessageDeps,
  threadId: string,
  text: string,
  uploadIds: readonly string[],
): Promise<{ item: ThreadItem; thread: ThreadSummary }> {
  const { store, hub, logger } = deps;
  const uploads = await store.takeUploads(threadId, uploadIds);
  const { item, thread: summary } = await store.addUserMessage(
    threadId,
    text,
    uploads.map((u) => u.ref),
  );
  hub.publish({ type: 'item', threadId, item });
  hub.publish({ type: 'thread', thread: summary });

  const message: InboundMessage = {
    sessionKey: playgroundSessionKey(threadId),
    author: PLAYGROUND_AUTHOR,
    text,
    messageId: item.id,
    // The thread's version grows with every change to it (atomically, whichever replica made
    // it), so it orders the thread's messages.
    order: String(summary.version),
    attachments: uploads.map(({ ref, content }) => ({
      name: ref.name,
      sizeBytes: ref.sizeBytes,
      // The upload's id: fetchAttachment reads it from the thread store again.
      ref: ref.id,
      // The core fetches only files within its limits, and only those kept their bytes.
      fetch: () =>
        content === undefined
          ? Promise.reject(new Error(`${ref.name} was over the size limit`))
          : Promise.resolve(content),
    })),
  };
  const thread = webThreadReply({ threadId, messageId: item.id, store, hub, logger });
  deps.conversation.handle(message, thread).catch(async (error: unknown) => {
    logger.error({ err: error, threadId }, 'playground message failed');
    await thread.reply(textReply('Something went wrong on my side; see the bot log.'));
  });
  return { item, thread: summary };
}
