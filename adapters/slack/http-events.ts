import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTPReceiver, type Logger as BoltLogger } from '@slack/bolt';
import type { RouteHandler } from '../../src/http/http-server.ts';

/** Events, slash commands and interactivity all post here (the manifest's request URLs). */
export const EVENTS_PATH = '/slack/events';

/**
 * Bolt's HTTP receiver without its own listener: it verifies each request's signature
 * (X-Slack-Signature, HMAC-SHA256 with the signing secret) and its timestamp (refusing ones
 * older than 5 minutes), answering 401 otherwise, and acknowledges at once. It is mounted on
 * the bot's shared HTTP server, so Slack events need no second port.
 */
export function createHttpReceiver(signingSecret: string, logger: BoltLogger): HTTPReceiver {
  return new HTTPReceiver({ signingSecret, endpoints: EVENTS_PATH, logger });
}

export function httpEventsRoute(receiver: HTTPReceiver, isOpen: () => boolean): RouteHandler {
  return (request: IncomingMessage, response: ServerResponse) => {
    if (!isOpen()) {
      // Stopping: Slack retries later, to this process after a restart or to another one.
      response.writeHead(503).end();
      return;
    }
    try {
      receiver.requestListener(request, response);
    } catch {
      // Bolt throws for paths and methods it does not serve.
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  };
}
