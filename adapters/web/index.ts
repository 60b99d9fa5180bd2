import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdapterFactory, ChatAdapter } from '../../src/core/chat-adapter.ts';
import { openDatabase } from '../../src/sqlite/open-database.ts';
import { handleApi, type ApiDeps } from './api-routes.ts';
import { playgroundReplies } from './durable-replies.ts';
import { EventHub } from './event-hub.ts';
import { sendError } from './http-io.ts';
import { RequestGuard } from './request-guard.ts';
import { StaticFiles } from './static-files.ts';
import { MemoryPlaygroundStore } from './memory-playground-store.ts';
import { SqlitePlaygroundStore } from './sqlite-playground-store.ts';
import { ThreadStore } from './thread-store.ts';

/**
 * The local web playground: a page on `/` and its API on `/api/`, mounted on the bot's one
 * HTTP server. Without REDIS_URL its threads and files are kept in the SQLite file under
 * SANDBOT_DATA_DIR, so a restart lists them again; with Redis they live in this process's
 * memory (docs/playground.md).
 */
export const createWebAdapter: AdapterFactory = (context): ChatAdapter => {
  const logger = context.logger.child({ platform: 'web' });
  const hub = new EventHub();
  const files = new StaticFiles();
  // Its own connection to the file the embedded core uses: WAL lets both write.
  const db =
    context.config.redisUrl === undefined ? openDatabase(context.config.dataDir) : undefined;
  const deps: ApiDeps = {
    config: context.config,
    conversation: context.conversation,
    guard: new RequestGuard(context.config.playground.token),
    hub,
    store: new ThreadStore(
      db === undefined ? new MemoryPlaygroundStore() : new SqlitePlaygroundStore(db),
    ),
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
      context.http.mount('/', route);
      logger.debug('playground mounted on /');
    },
    stop() {
      hub.close();
      db?.close();
      return Promise.resolve();
    },
  };
};
