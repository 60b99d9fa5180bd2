import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { DeliveryGuard } from './delivery-guard.ts';
import type { InboundMessage } from './inbound-message.ts';
import type { ApprovalPress, ApprovalPressAnswer, ApprovalPrompts } from './package-approval.ts';
import type { RateLimiterFactory } from './rate-limiter.ts';
import type { ReplyAddress, ReplyResume, ThreadReply } from './reply.ts';

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
  /**
   * Rebuilds the reply for an address one of this adapter's `ThreadReply`s gave, in any
   * process (a turn resumed after its process died, or run by another replica). `resume`
   * says what the first runner had already posted. Undefined when the address is not its own.
   */
  replyFor?(address: ReplyAddress, resume: ReplyResume): ThreadReply | undefined;
  /** Fetches an attachment again by its `InboundAttachment.ref`, with the adapter's credentials. */
  fetchAttachment?(ref: string): Promise<Buffer>;
}

/** Whether someone may use the bot somewhere; a refusal carries the reply to give. */
export type AccessDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly reply: string };

/** The conversation core as adapters see it. */
export interface ConversationPort {
  /** Runs the message's turn (in order per thread) and answers through `thread`. */
  handle(message: InboundMessage, thread: ThreadReply): Promise<void>;
  /** Whether the thread already is a session (so a reply without a mention continues it). */
  hasSession(sessionKey: string): Promise<boolean>;
  /**
   * Whether the allowlists let this person use the bot in this place, counting nothing: for
   * adapters that must decide before creating something (Discord opens a thread).
   */
  admits(
    platform: string,
    place: { readonly channel: string; readonly workspace: string },
    userId: string,
    groups?: readonly string[],
  ): AccessDecision;
  /**
   * A person's usage today as one line ("You today (2026-11-29, UTC): 1,204 tokens in, …"),
   * for a surface that shows it outside a thread (Slack's Home tab); undefined when usage is
   * not kept.
   */
  usageToday?(platform: string, userId: string): Promise<string | undefined>;
  /** A press of a package approval's Approve or Deny (PACKAGE_APPROVERS), in any process. */
  pressApproval?(press: ApprovalPress): Promise<ApprovalPressAnswer>;
  /** An adapter offers its Approve/Deny message (PACKAGE_APPROVERS' questions) for threads
   *  of its surface; a surface that offers none gets no questions. */
  offerApprovalPrompts?(surface: string, prompts: ApprovalPrompts): void;
}

export type RouteHandler = (
  request: IncomingMessage,
  response: ServerResponse,
) => void | Promise<void>;

/** The bot's one HTTP listener, as adapters use it: they mount routes on it. */
export interface HttpRoutes {
  /** `prefix` "/" matches everything; "/slack/" matches /slack/events. */
  mount(prefix: string, handler: RouteHandler): void;
  /** The address once listening, e.g. http://127.0.0.1:3000. */
  readonly url: string;
}

/** What every adapter is given by the composition root (src/cli/commands/start.ts). */
export interface AdapterContext {
  readonly config: Config;
  readonly conversation: ConversationPort;
  /** Drops redelivered platform events (HTTP retries, Socket Mode redelivery, resumes). */
  readonly deliveries: DeliveryGuard;
  /** The bot's one HTTP listener on HTTP_HOST:HTTP_PORT. */
  readonly http: HttpRoutes;
  readonly logger: Logger;
  /** Limiters for a platform's own rates (Slack's edits per workspace), shared by every bot
   *  process when REDIS_URL is set. Unset: each adapter counts in its own memory. */
  readonly limiters?: RateLimiterFactory;
  /** Counts a verdict from a platform's feedback buttons in /metrics; absent: not counted. */
  readonly countFeedback?: (platform: string, value: 'good' | 'bad') => void;
}

export type AdapterFactory = (context: AdapterContext) => ChatAdapter;
