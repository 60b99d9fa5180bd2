import type { Config } from '../config/config.ts';
import type { HttpServer } from '../http/http-server.ts';
import type { Logger } from '../logging/logger.ts';
import type { Conversation } from './conversation.ts';
import type { DeliveryGuard } from './delivery-guard.ts';

/**
 * One chat surface (Slack, Discord, the web playground). An adapter turns platform events
 * into `conversation.handle(message, thread)` calls and renders what comes back; it holds no
 * conversation logic. `sandbot start` builds one per configured platform.
 */
export interface ChatAdapter {
  readonly name: string;
  /** Connects (or mounts its HTTP routes); resolves when it can take messages. */
  start(): Promise<void>;
  /** Disconnects; turns still running are left to the conversation core to finish. */
  stop(): Promise<void>;
}

/** What every adapter is given by the composition root (src/cli/commands/start.ts). */
export interface AdapterContext {
  readonly config: Config;
  readonly conversation: Conversation;
  /** Drops redelivered platform events (HTTP retries, Socket Mode redelivery, resumes). */
  readonly deliveries: DeliveryGuard;
  /** The bot's one HTTP listener on HTTP_HOST:HTTP_PORT; adapters mount routes on it. */
  readonly http: HttpServer;
  readonly logger: Logger;
}

export type AdapterFactory = (context: AdapterContext) => ChatAdapter;
