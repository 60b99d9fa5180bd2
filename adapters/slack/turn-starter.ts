import type { webApi } from '@slack/bolt';
import type { ConversationPort } from '../../src/core/chat-adapter.ts';
import type { InboundMessage } from '../../src/core/inbound-message.ts';
import { isFirstDelivery, type DeliveryGuard } from '../../src/core/delivery-guard.ts';
import type { EditBudget } from './edit-budget.ts';
import {
  boundEarlierMessages,
  withEarlierFiles,
  withThreadContext,
  type EarlierMessage,
} from '../../src/conversation/thread-context.ts';
import { KeyedSerializer } from '../../src/core/keyed-serializer.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { plainTextFromSlack } from './inbound-text.ts';
import { RecentThreads } from './recent-threads.ts';
import { requestOrder } from './request-order.ts';
import type { BotIdentity, MessageRoute } from './message-rules.ts';
import type { SlackFileDownloader } from './slack-files.ts';
import type { SlackFile, SlackMessage } from './slack-message.ts';
import type { SlackPlace } from './slack-place.ts';
import { threadSessionKey } from './slack-session.ts';
import { titleDmThread } from './thread-title.ts';
import { earlierInThread } from './thread-context.ts';
import type { StreamSupport } from './stream-support.ts';
import type { SlackUserGroups } from './user-groups.ts';
import { SlackThreadReply, type SlackThreadReplyOptions } from './slack-thread-reply.ts';
import type { UserNames } from './user-names.ts';

export interface TurnStarterOptions {
  readonly conversation: ConversationPort;
  readonly deliveries: DeliveryGuard;
  readonly files: SlackFileDownloader;
  readonly names: UserNames;
  readonly statusDelayMs: number;
  /** chat.update budget of the workspace, shared by all status messages. */
  readonly edits: EditBudget;
  readonly logger: Logger;
  /** Where answers may stream (SLACK_STREAMING); absent: never. */
  readonly streams?: StreamSupport;
  /** Slack user groups ALLOWED_USERS names, looked up per author; absent: none named. */
  readonly groups?: SlackUserGroups;
}

/** A message the rules said to answer, with what Slack told about where it came from. */
export interface MessageTurn {
  readonly client: webApi.WebClient;
  readonly team: string;
  readonly message: SlackMessage;
  readonly route: Extract<MessageRoute, { answer: true }>;
  readonly bot: BotIdentity;
  /** A message in an assistant pane thread: acknowledged on the pane's status line. */
  readonly inAssistantPane?: boolean;
}

/** A turn that is not a message in a thread: a slash command or a button press. */
export interface DirectTurn {
  readonly client: webApi.WebClient;
  readonly team: string;
  readonly sessionKey: string;
  /** Unique per delivery of this request (Slack's trigger_id), to drop redeliveries. */
  readonly deliveryId: string;
  readonly place: SlackPlace;
  readonly author: { readonly id: string; readonly name: string };
  readonly text: string;
  /** Files the turn starts with (a message shortcut on a message that has some). */
  readonly files?: readonly SlackFile[];
  readonly reply: Partial<Pick<SlackThreadReplyOptions, 'heading' | 'onNotInChannel'>>;
}

/**
 * Hands Slack messages to the conversation core, once each: duplicates (HTTP retries, Socket
 * Mode redelivery, and the `message` twin of an `app_mention`) are dropped by the delivery
 * guard, keyed by the message itself. Returns when the turn is handed over, never waiting for
 * it, so Slack's events are acknowledged and the next one taken at once.
 */
export class TurnStarter {
  private readonly options: TurnStarterOptions;
  /** Threads this process started a turn in: the session is stored only when a turn ends. */
  private readonly started = new RecentThreads();
  /** Messages of one thread reach the core in the order they came, whatever each awaits. */
  private readonly arrivals = new KeyedSerializer();
  /** Hand-overs to the core still under way (with durable turns they end once stored). */
  private readonly handing = new Set<Promise<void>>();

  constructor(options: TurnStarterOptions) {
    this.options = options;
  }

  async fromMessage(turn: MessageTurn): Promise<void> {
    const { message, route, team } = turn;
    const sessionKey = threadSessionKey(team, message.channel, route.threadTs);
    await this.arrivals.run(sessionKey, () => this.takeMessage(turn, sessionKey));
  }

  private async takeMessage(turn: MessageTurn, sessionKey: string): Promise<void> {
    const { message, route, team } = turn;
    if (route.onlyIfSession && !(await this.isActive(sessionKey))) return;
    if (!(await this.firstDelivery(`slack:message:${team}:${message.channel}:${message.ts}`))) {
      this.options.logger.debug({ session: sessionKey }, 'duplicate Slack message dropped');
      return;
    }
    const joiningLate = await this.joinsThreadLate(turn, sessionKey);
    this.started.add(sessionKey);
    const thread = new SlackThreadReply({
      client: turn.client,
      team,
      place: { channel: message.channel, threadTs: route.threadTs },
      sessionKey,
      acknowledgement: {
        kind: turn.inAssistantPane === true ? 'assistant' : 'reaction',
        ts: message.ts,
      },
      statusDelayMs: this.options.statusDelayMs,
      edits: this.options.edits,
      logger: this.options.logger,
      ...(this.options.streams === undefined
        ? {}
        : { streaming: { support: this.options.streams, recipientUserId: message.user } }),
    });
    thread.acknowledge();
    const question = plainTextFromSlack(message.text, turn.bot.userId);
    // A top-level DM message starts a thread (the agent view lists them by title).
    if (message.channel.startsWith('D') && message.threadTs === undefined) {
      titleDmThread(
        turn.client,
        { channel: message.channel, threadTs: route.threadTs },
        question,
        this.options.logger,
      );
    }
    const author = message.user ?? message.botId ?? 'unknown';
    const name =
      message.user === undefined
        ? (message.authorName ?? author)
        : await this.options.names.nameOf(turn.client, message.user, message.authorName);
    const earlier = joiningLate ? await this.earlierMessages(turn, route.threadTs) : [];
    this.handle(
      {
        sessionKey,
        author: { id: author, name },
        text: withThreadContext(earlier, question),
        attachments: withEarlierFiles(earlier, this.options.files.attachments(message.files)),
        // A message's ts is unique in its channel, and Slack's own order of the thread.
        messageId: `${team}:${message.channel}:${message.ts}`,
        order: message.ts,
      },
      thread,
      turn.client,
    );
  }

  /** A message in a thread that was going on before the bot had a session in it. */
  private async joinsThreadLate(turn: MessageTurn, sessionKey: string): Promise<boolean> {
    const { threadTs, ts } = turn.message;
    if (threadTs === undefined || threadTs === ts) return false;
    return !(await this.isActive(sessionKey));
  }

  /** What was said in the thread before, bounded, as the first turn's context. */
  private async earlierMessages(turn: MessageTurn, threadTs: string): Promise<EarlierMessage[]> {
    const all = await earlierInThread({
      client: turn.client,
      channel: turn.message.channel,
      threadTs,
      beforeTs: turn.message.ts,
      bot: turn.bot,
      names: this.options.names,
      files: this.options.files,
      logger: this.options.logger,
    });
    return boundEarlierMessages(all);
  }

  async direct(turn: DirectTurn): Promise<void> {
    if (!(await this.firstDelivery(`slack:request:${turn.deliveryId}`))) return;
    this.started.add(turn.sessionKey);
    const thread = new SlackThreadReply({
      client: turn.client,
      team: turn.team,
      place: turn.place,
      sessionKey: turn.sessionKey,
      acknowledgement: { kind: 'none' },
      // Nothing else shows that a slash command was taken.
      statusDelayMs: 0,
      edits: this.options.edits,
      logger: this.options.logger,
      ...turn.reply,
    });
    this.handle(
      {
        sessionKey: turn.sessionKey,
        author: turn.author,
        text: turn.text,
        attachments: this.options.files.attachments(turn.files ?? []),
        messageId: turn.deliveryId,
        order: requestOrder(),
      },
      thread,
      turn.client,
    );
  }

  private handle(
    message: InboundMessage,
    thread: SlackThreadReply,
    client: webApi.WebClient,
  ): void {
    const handled = this.withGroups(message, client)
      .then((withGroups) => this.options.conversation.handle(withGroups, thread))
      .catch((error: unknown) => {
        this.options.logger.error({ err: error, session: message.sessionKey }, 'Slack turn failed');
      })
      .finally(() => this.handing.delete(handled));
    this.handing.add(handled);
  }

  /** The message with the author's listed Slack groups, for the core's access check. */
  private async withGroups(
    message: InboundMessage,
    client: webApi.WebClient,
  ): Promise<InboundMessage> {
    const groups = this.options.groups;
    if (groups === undefined) return message;
    return {
      ...message,
      author: { ...message.author, groups: await groups.of(client, message.author.id) },
    };
  }

  /**
   * Resolves once every message already acknowledged to Slack has been handed to the core
   * (with durable turns: stored), so a shutdown right after an acknowledgement loses nothing.
   */
  async drain(): Promise<void> {
    await this.arrivals.idle();
    await Promise.all(this.handing);
  }

  private async isActive(sessionKey: string): Promise<boolean> {
    return this.started.has(sessionKey) || (await this.options.conversation.hasSession(sessionKey));
  }

  private firstDelivery(id: string): Promise<boolean> {
    return isFirstDelivery(this.options.deliveries, id, this.options.logger);
  }
}
