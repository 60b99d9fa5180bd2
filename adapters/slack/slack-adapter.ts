import { App, SocketModeReceiver, type HTTPReceiver } from '@slack/bolt';
import type { AdapterContext, ChatAdapter } from '../../src/core/chat-adapter.ts';
import { SandbotError } from '../../src/core/errors.ts';
import type { ReplyAddress, ReplyResume, ThreadReply } from '../../src/core/reply.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { keepAliveFetch } from '../../src/agent/keep-alive-fetch.ts';
import { createAssistantPane } from './assistant-pane.ts';
import { boltLogger } from './bolt-logger.ts';
import { EditBudget } from './edit-budget.ts';
import { createHttpReceiver, httpEventsRoute } from './http-events.ts';
import { registerMessageEvents } from './message-events.ts';
import { readSlackAddress } from './reply-address.ts';
import { slackErrorCode } from './slack-errors.ts';
import { SlackFileDownloader } from './slack-files.ts';
import { SOCKET_MODE_RETRY, STATUS_DELAY_MS, WEB_API_RETRY } from './slack-limits.ts';
import { registerSlashCommand } from './slash-command.ts';
import { registerStopButton } from './stop-button.ts';
import { registerFeedbackButtons } from './feedback-buttons.ts';
import {
  registerPackageApprovalButtons,
  slackApprovalPrompts,
} from './package-approval-buttons.ts';
import { registerAgentView } from './agent-view.ts';
import { StreamSupport } from './stream-support.ts';
import { SlackUserGroups } from './user-groups.ts';
import { replyFromAddress } from './slack-thread-reply.ts';
import { TurnStarter } from './turn-starter.ts';
import { UserNames } from './user-names.ts';
import { registerAnalyzeMessageShortcut } from './analyze-message-shortcut.ts';
import { registerHomeTab } from './home-tab.ts';
import { homeLimits } from './home-view.ts';
import { registerNewAnalysisShortcut } from './new-analysis-shortcut.ts';
import { registerThreadRecorder } from './thread-recorder.ts';
import { UserThreads } from './user-threads.ts';
import { registerWorkspaceRevocation } from './workspace-revocation.ts';

export interface SlackAdapterOptions {
  /** How long a turn runs before its status message appears. Default STATUS_DELAY_MS. */
  readonly statusDelayMs?: number;
}

/**
 * Slack through Bolt. With SLACK_APP_TOKEN it connects out over Socket Mode (no public URL);
 * otherwise Slack posts signed HTTP requests to /slack/events on the bot's HTTP server.
 * SLACK_API_URL moves the Web API (and Socket Mode's apps.connections.open) elsewhere.
 */
export class SlackAdapter implements ChatAdapter {
  readonly name = 'slack';
  private readonly context: AdapterContext;
  private readonly logger: Logger;
  private readonly app: App;
  private readonly receiver: HTTPReceiver | undefined;
  private readonly socketMode: boolean;
  /** The Web API's transport; its idle connections hold no process open. */
  private readonly fetch = keepAliveFetch();
  /** Shared by the replies of taken messages and those rebuilt by replyFor. */
  private readonly edits: EditBudget;
  private readonly files: SlackFileDownloader;
  private readonly statusDelayMs: number;
  /** Which workspaces take streamed answers (SLACK_STREAMING=auto), learned as they answer. */
  private readonly streams: StreamSupport | undefined;
  private open = false;
  private turns: TurnStarter | undefined;

  constructor(context: AdapterContext, options: SlackAdapterOptions = {}) {
    this.context = context;
    this.logger = context.logger.child({ platform: 'slack' });
    const { botToken, appToken, signingSecret, apiUrl } = context.config.slack;
    if (botToken === undefined) {
      throw new SandbotError('CONFIG_INVALID', 'SLACK_BOT_TOKEN is needed for Slack');
    }
    if (appToken === undefined && signingSecret === undefined) {
      throw new SandbotError(
        'CONFIG_INVALID',
        'set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP events) for Slack',
      );
    }
    const logger = boltLogger(this.logger);
    const common = {
      token: botToken,
      logger,
      clientOptions: {
        ...(apiUrl === undefined ? {} : { slackApiUrl: apiUrl }),
        retryConfig: { ...WEB_API_RETRY },
        // The WebClient waits forever by default; a hung call would stall a thread's answer.
        timeout: 120_000,
        // Kept-alive node:http(s) connections: less per call than Node's fetch (issue 19).
        fetch: this.fetch,
      },
      // auth.test runs in start(), so a bad token fails start-up with a clear error.
      deferInitialization: true,
      // Bolt's per-conversation store is unused; the core keeps sessions.
      convoStore: false as const,
    };
    this.socketMode = appToken !== undefined;
    if (appToken !== undefined) {
      this.receiver = undefined;
      const socket = new SocketModeReceiver({
        appToken,
        logger,
        installerOptions: {
          clientOptions: {
            ...(apiUrl === undefined ? {} : { slackApiUrl: apiUrl }),
            retryConfig: { ...SOCKET_MODE_RETRY },
          },
        },
      });
      this.app = new App({ ...common, receiver: socket });
    } else {
      this.receiver = createHttpReceiver(signingSecret ?? '', logger);
      this.app = new App({ ...common, receiver: this.receiver });
    }
    this.app.error((error) => {
      this.logger.error({ err: error, code: slackErrorCode(error.original ?? error) }, 'Bolt');
      return Promise.resolve();
    });
    const { config, limiters } = context;
    this.files = new SlackFileDownloader({
      botToken,
      apiUrl,
      maxBytes: config.agent.maxAttachmentBytes,
    });
    this.edits = new EditBudget(limiters === undefined ? {} : { limiters });
    this.statusDelayMs = options.statusDelayMs ?? STATUS_DELAY_MS;
    this.streams = config.slack.streaming === 'auto' ? new StreamSupport(true) : undefined;
    // Package questions (PACKAGE_APPROVERS), posted with this process's WebClient.
    context.conversation.offerApprovalPrompts?.('slack', slackApprovalPrompts(this.app.client));
    this.register();
  }

  async start(): Promise<void> {
    try {
      await this.app.init();
    } catch (error) {
      throw new SandbotError(
        'CONFIG_INVALID',
        `Slack refused SLACK_BOT_TOKEN (${slackErrorCode(error)}); check the token and SLACK_API_URL`,
        { cause: error },
      );
    }
    this.open = true;
    if (this.receiver === undefined) {
      await this.app.start();
      this.logger.info('Slack connected over Socket Mode');
    } else {
      this.context.http.mount(
        '/slack/',
        httpEventsRoute(this.receiver, () => this.open),
      );
      this.logger.info(`Slack events accepted on ${this.context.http.url}/slack/events`);
    }
  }

  async stop(): Promise<void> {
    this.open = false;
    if (this.socketMode) await this.app.stop();
    // Events Slack saw acknowledged must reach the core before the process goes.
    await this.turns?.drain();
  }

  /**
   * The reply of a message some bot process took, with this process's WebClient (the bot
   * token) and edit budget; works before start(). With `resume.progressMessageId` it takes
   * over that status message: edits it to say the turn resumed, removes it with the answer.
   */
  replyFor(address: ReplyAddress, resume: ReplyResume): ThreadReply | undefined {
    const slack = readSlackAddress(address);
    if (slack === undefined) return undefined;
    return replyFromAddress(slack, resume, {
      client: this.app.client,
      edits: this.edits,
      logger: this.logger.child({ session: slack.sessionKey }),
      statusDelayMs: this.statusDelayMs,
      ...(this.streams === undefined ? {} : { streams: this.streams }),
    });
  }

  /** An attachment by its ref (a Slack file id), downloaded with the bot token. */
  fetchAttachment(ref: string): Promise<Buffer> {
    return this.files.fetchById(this.app.client, ref);
  }

  private register(): void {
    const { config, conversation, deliveries } = this.context;
    const groups = SlackUserGroups.fromAllowedUsers(config.policy.allowedUsers, this.logger);
    const turns = (this.turns = new TurnStarter({
      conversation,
      deliveries,
      files: this.files,
      names: new UserNames(this.logger),
      statusDelayMs: this.statusDelayMs,
      edits: this.edits,
      logger: this.logger,
      ...(this.streams === undefined ? {} : { streams: this.streams }),
      ...(groups === undefined ? {} : { groups }),
    }));
    const allowBotMessages = config.allowBotMessages;
    // Before any other middleware: a stopped workspace's requests go no further.
    registerWorkspaceRevocation(this.app, this.logger);
    const threads = new UserThreads();
    registerThreadRecorder(this.app, { threads, allowBotMessages });
    const usageToday = conversation.usageToday?.bind(conversation);
    registerHomeTab(this.app, {
      threads,
      limits: homeLimits(config),
      logger: this.logger,
      ...(usageToday === undefined ? {} : { usageToday: (user) => usageToday('slack', user) }),
    });
    registerNewAnalysisShortcut(this.app, { turns, threads, deliveries, logger: this.logger });
    registerAnalyzeMessageShortcut(this.app, { turns, threads, logger: this.logger });
    // The assistant pane first: it takes the messages of its threads before anyone else.
    this.app.assistant(
      createAssistantPane({ turns, deliveries, allowBotMessages, logger: this.logger }),
    );
    registerMessageEvents(this.app, { turns, allowBotMessages, logger: this.logger });
    registerSlashCommand(this.app, turns, this.logger);
    registerStopButton(this.app, turns, this.logger);
    registerFeedbackButtons(this.app, this.context.countFeedback, this.logger);
    registerPackageApprovalButtons(this.app, {
      conversation,
      approvers: config.policy.packageApprovers,
      logger: this.logger,
    });
    registerAgentView(this.app, this.logger);
  }
}
