import type { ChildProcess } from 'node:child_process';
import { appMention } from '../fakes/fake-slack-payloads.ts';
import type { FakeSlack } from '../fakes/fake-slack-server.ts';
import { BotDeployment, type BotDeploymentOptions } from './bot-deployment.ts';

/** A deployment (bot-deployment.ts) whose bots are on the fake Slack over Socket Mode. */
export class SlackDeployment extends BotDeployment {
  constructor(
    options: Omit<BotDeploymentOptions, 'platformEnv'> & {
      readonly slack: FakeSlack;
      /** More settings for every process (the model's address). */
      readonly env?: Readonly<Record<string, string>>;
    },
  ) {
    const { slack, env, ...rest } = options;
    super({
      ...rest,
      platformEnv: {
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_APP_TOKEN: slack.appToken,
        SLACK_API_URL: slack.apiUrl,
        ...env,
      },
    });
  }

  /** A `sandbot start` on the fake Slack, once it is connected. */
  bot(name: string): Promise<ChildProcess> {
    return this.run(['start', '--no-build'], name, /is running \(slack\)/);
  }
}

/**
 * Mentions of the bot in numbered threads of one channel, one person per thread (so nobody
 * meets the per-user rate limit). Like Slack, an event whose delivery was not acknowledged in
 * time (its connection died) is delivered again with the same event id. `roots[t]` is thread
 * t's first message once sent.
 */
export function threadMentions(
  slack: FakeSlack,
  options: {
    readonly channel: string;
    readonly text: (thread: number, round: number) => string;
    readonly ackTimeoutMs: number;
    readonly maxAttempts: number;
  },
): { readonly roots: string[]; readonly send: (thread: number, round: number) => Promise<void> } {
  const roots: string[] = [];
  const send = async (thread: number, round: number) => {
    const ts = slack.workspace.nextTs();
    if (round === 0) roots[thread] = ts;
    const event = appMention(slack.ids, {
      channel: options.channel,
      user: `U0PERSON${thread}`,
      text: `<@${slack.ids.botUserId}> ${options.text(thread, round)}`,
      ts,
      threadTs: roots[thread] ?? ts,
    });
    const eventId = `Ev${ts.replace('.', '')}`;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await slack.sendEvent(event, {
          eventId,
          retryAttempt: attempt,
          ackTimeoutMs: options.ackTimeoutMs,
        });
        return;
      } catch (error) {
        if (attempt >= options.maxAttempts) throw error;
      }
    }
  };
  return { roots, send };
}
