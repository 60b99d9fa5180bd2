import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdapterFactory, ChatAdapter } from '../../src/core/chat-adapter.ts';
import { handleApi, type ApiDeps } from './api-routes.ts';
import { playgroundReplies } from './durable-replies.ts';
import { EventHub } from './event-hub.ts';
import { sendError } from './http-io.ts';
import { playgroundStorage } from './playground-storage.ts';
import { RequestGuard } from './request-guard.ts';
import { StaticFiles } from './static-files.ts';
import { ThreadStore } from './thread-store.ts';

/**
 * The local web playground: a page on `/` and its API on `/api/`, mounted on the bot's one
 * HTTP server. Without REDIS_URL its threads and files are kept in the SQLite file under
 * SANDBOT_DATA_DIR, so a restart lists them again; with Redis they live in Redis and page
 * events travel over pub/sub, so every bot replica serves the same threads
 * (docs/playground.md).
 */
export const createWebAdapter: AdapterFactory = (context): ChatAdapter => {
  const logger = context.logger.child({ platform: 'web' });
  const files = new StaticFiles();
  const storage = playgroundStorage(context.config, logger);
  const hub = new EventHub({
    ...(storage.events === undefined ? {} : { fanOut: storage.events }),
    onError: (error) => logger.warn({ err: error }, 'playground event not sent'),
  });
  const deps: ApiDeps = {
    config: context.config,
    conversation: context.conversation,
    guard: new RequestGuard(context.config.playground.token),
    hub,
    store: new ThreadStore(storage.store),
    logger,
  };

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://playground');
    const verdict = deps.guard.checkRequest(request);
    if (!verdict.ok) {
      sendError(response, verdict.status, verdict.error);
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      await handleApi(deps, request, response, url);
      return;
    }
    if (!files.serve(url.pathname, request.method ?? 'GET', response)) {
      sendError(response, 404, 'not found');
    }
  }

  return {
    name: 'web',
    ...playgroundReplies(deps),
    async start() {
      await files.load();
      // Subscribed before the page is served: a page's stream then hears every later event.
      await storage.events?.subscribe((data) => hub.deliver(data));
      context.http.mount('/', route);
      logger.debug('playground mounted on /');
    },
    async stop() {
      hub.close();
      await storage.close();
    },
  };
};
