/**
 * Event to first visible progress through the Slack adapter (issue 6): the real Bolt app over
 * Socket Mode against the fake Slack, the real core. A mention is sent as a Socket Mode
 * envelope; the figure is the time until the fake records the bot's first visible reaction to
 * it (the `eyes` reaction), and until the answer is posted. The anchor, measured in the same
 * run, is one bare Web API round trip (auth.test) to the same fake through Bolt's WebClient:
 * the floor any visible progress stands on.
 */
import { webApi } from '@slack/bolt';
import { startSlackBot } from '../test/fakes/fake-slack-harness.ts';
import { appMention } from '../test/fakes/fake-slack-payloads.ts';
import { percentile, round, timeMs } from './stats.ts';

const ROUNDS = 30;
const CHANNEL = 'C0BENCH';
const USER = 'U0BENCH';

export async function benchSlack(
  image: string,
  log: (line: string) => void,
): Promise<Record<string, number>> {
  log('slack: starting the bot against the fake Slack (Socket Mode)');
  const bot = await startSlackBot({
    transport: 'socket',
    embeddedWorkerId: `bench-slack-${process.pid}`,
    env: { SANDBOX_IMAGE: image },
  });
  try {
    const { slack } = bot;
    slack.workspace.users.set(USER, 'bench');
    const client = new webApi.WebClient(slack.botToken, { slackApiUrl: slack.apiUrl });
    const roundTrips: number[] = [];
    const firstProgress: number[] = [];
    const answered: number[] = [];
    // One warm-up of each, so neither figure pays for first-use costs.
    await client.auth.test();
    await mentionOnce();
    for (let i = 0; i < ROUNDS; i += 1) {
      roundTrips.push(await timeMs(() => client.auth.test()));
      const { progressMs, answerMs } = await mentionOnce();
      firstProgress.push(progressMs);
      answered.push(answerMs);
    }
    const progressP50 = percentile(firstProgress, 50);
    const roundTripP50 = percentile(roundTrips, 50);
    return {
      slack_first_progress_p50_ms: progressP50,
      slack_first_progress_p95_ms: percentile(firstProgress, 95),
      slack_help_answer_p50_ms: percentile(answered, 50),
      slack_webapi_roundtrip_p50_ms: roundTripP50,
      slack_first_progress_vs_roundtrip_ratio: round(progressP50 / roundTripP50),
    };

    /** A mention asking for `help` (no sandbox needed): times to the reaction and the answer. */
    async function mentionOnce(): Promise<{ progressMs: number; answerMs: number }> {
      const ts = slack.workspace.nextTs();
      const event = appMention(slack.ids, {
        channel: CHANNEL,
        user: USER,
        ts,
        text: `<@${slack.ids.botUserId}> help`,
      });
      const sentAt = performance.now();
      const sent = slack.sendEvent(event);
      const reaction = await slack.waitFor(
        () => slack.calls.find((c) => c.method === 'reactions.add' && c.args.timestamp === ts),
        'the working reaction',
      );
      const answer = await slack.waitFor(
        () =>
          slack.calls.find(
            (c) => c.method === 'chat.postMessage' && c.args.thread_ts === ts && c.ok,
          ),
        'the answer',
      );
      await sent;
      return { progressMs: reaction.atMs - sentAt, answerMs: answer.atMs - sentAt };
    }
  } finally {
    await bot.close();
  }
}
