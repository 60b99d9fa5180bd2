/**
 * The real bot wired to the fake Slack, as `sandbot start` wires it: settings parsed from an
 * environment, the real core (embedded mode, real Docker), the bot's HTTP server, and the
 * Slack adapter over Socket Mode or HTTP events. For the e2e tests and the bench.
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { feedbackCounter } from '../../src/http/feedback-counter.ts';
import { createSlackAdapter } from '../../adapters/slack/index.ts';
import type { Config } from '../../src/core/config.ts';
import { parseConfig } from '../../src/config/config.ts';
import type { ChatAdapter } from '../../src/core/chat-adapter.ts';
import { HttpServer } from '../../src/http/http-server.ts';
import { buildCore, type Core } from '../../src/runtime/core.ts';
import { removeDataDir, tempDataDir } from '../support/data-dir.ts';
import { startFakeSlack, type FakeSlack } from './fake-slack-server.ts';
import type { FakeMessage } from './fake-slack-workspace.ts';

export interface SlackBot {
  readonly slack: FakeSlack;
  readonly config: Config;
  readonly core: Core;
  readonly http: HttpServer;
  readonly adapter: ChatAdapter;
  /** The /metrics registry the adapter counts in (feedback buttons). */
  readonly metrics: Registry;
  /** http://127.0.0.1:PORT/slack/events (HTTP mode's request URL). */
  readonly eventsUrl: string;
  /** Live (not deleted) messages of a thread, or of a channel's top level. */
  messagesIn(channel: string, threadTs: string | undefined): FakeMessage[];
  /** Waits for a live message in the place whose text matches. */
  waitForMessage(
    channel: string,
    threadTs: string | undefined,
    match: RegExp,
    timeoutMs?: number,
  ): Promise<FakeMessage>;
  close(): Promise<void>;
}

export interface SlackBotOptions {
  readonly transport: 'socket' | 'http';
  /** Extra settings (OPENAI_BASE_URL, MAX_ATTACHMENT_MB, ...). */
  readonly env?: Readonly<Record<string, string>>;
  readonly embeddedWorkerId: string;
}

export async function startSlackBot(options: SlackBotOptions): Promise<SlackBot> {
  const slack = await startFakeSlack();
  const parsed = parseConfig({
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_API_URL: slack.apiUrl,
    ...(options.transport === 'socket'
      ? { SLACK_APP_TOKEN: slack.appToken }
      : { SLACK_SIGNING_SECRET: slack.signingSecret }),
    SANDBOX_IMAGE: process.env.SANDBOX_IMAGE ?? 'sandbot-sandbox:latest',
    SANDBOX_POOL_SIZE: '0',
    SANDBOX_MEMORY_MB: '384',
    USER_RATE_PER_MINUTE: '0',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    SANDBOT_DATA_DIR: tempDataDir('slack'),
    ...options.env,
  });
  if (!parsed.ok) throw new Error(`bad test settings: ${JSON.stringify(parsed.problems)}`);
  const config = parsed.config;
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const core = await buildCore(config, logger, { embeddedWorkerId: options.embeddedWorkerId });
  const metrics = new Registry();
  const http = new HttpServer({
    host: config.http.host,
    port: config.http.port,
    logger,
    metrics,
    healthy: () => true,
  });
  let adapter: ChatAdapter | undefined;
  try {
    await http.listen();
    adapter = createSlackAdapter({
      config,
      conversation: core.conversation,
      deliveries: core.deliveries,
      http,
      logger,
      countFeedback: feedbackCounter(metrics),
    });
    await adapter.start();
  } catch (error) {
    await http.close();
    await core.close();
    await slack.close();
    throw error;
  }
  const started = adapter;

  const messagesIn = (channel: string, threadTs: string | undefined) =>
    slack.workspace.messages.filter(
      (m) => !m.deleted && m.channel === channel && m.threadTs === threadTs,
    );
  return {
    slack,
    config,
    core,
    http,
    adapter: started,
    metrics,
    eventsUrl: `${http.url}/slack/events`,
    messagesIn,
    waitForMessage: (channel, threadTs, match, timeoutMs) =>
      slack.waitFor(
        () => messagesIn(channel, threadTs).find((m) => match.test(m.text)),
        `a message matching ${match} in ${channel}/${threadTs ?? 'top level'}`,
        timeoutMs,
      ),
    async close() {
      await started.stop();
      await http.close();
      await core.close();
      await slack.close();
      removeDataDir(config.dataDir);
    },
  };
}
