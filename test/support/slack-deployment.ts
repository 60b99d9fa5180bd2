import type { ChildProcess } from 'node:child_process';
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
