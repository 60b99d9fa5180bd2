import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdapterFactory, ChatAdapter } from '../../src/core/chat-adapter.ts';
import { handleApi, type ApiDeps } from './api-routes.ts';
import { EventHub } from './event-hub.ts';
import { sendError } from './http-io.ts';
import { RequestGuard } from './request-guard.ts';
import { StaticFiles } from './static-files.ts';
import { ThreadStore } from './thread-store.ts';

/**
 * The local web playground: a page on `/` and its API on `/api/`, mounted on the bot's one
 * HTTP server. Threads live in this process's memory (docs/playground.md).
 */
export const createWebAdapter: AdapterFactory = (context): ChatAdapter => {
  const logger = context.logger.child({ platform: 'web' });
  const hub = new EventHub();
  const files = new StaticFiles();
  const deps: ApiDeps = {
    config: context.config,
    conversation: context.conversation,
    guard: new RequestGuard(context.config.playground.token),
    hub,
    store: new ThreadStore(),
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
    async start() {
      await files.load();
      context.http.mount('/', route);
      logger.debug('playground mounted on /');
    },
    stop() {
      hub.close();
      return Promise.resolve();
    },
  };
};
