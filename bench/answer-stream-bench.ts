/**
 * How soon a streamed answer shows in Slack (issue 15): the real Bolt app over Socket Mode
 * against the fake Slack, the real core, the fake model streaming its answer. In each round the
 * model's first token is released a second after the model was asked (past the status
 * message's appearance delay, as a model that thinks first); the figure is the time from that
 * token leaving the fake model to the first Web API call that shows it in the thread (the
 * status message's text). The anchor is Slack's edit interval (STATUS_INTERVAL_MS): an update
 * waits at most that long for its turn, so the figure should stay below it.
 */
import { STATUS_INTERVAL_MS } from '../adapters/slack/slack-limits.ts';
import { startFakeOpenAI, type ScriptedReply } from '../test/fakes/fake-openai-server.ts';
import { startSlackBot } from '../test/fakes/fake-slack-harness.ts';
import { appMention } from '../test/fakes/fake-slack-payloads.ts';
import { percentile, round } from './stats.ts';

const ROUNDS = 10;
const CHANNEL = 'C0STREAM';
const USER = 'U0STREAM';
/** How long the model "thinks" before its first token. */
const FIRST_TOKEN_AFTER_MS = 1000;

export async function benchAnswerStream(
  image: string,
  log: (line: string) => void,
): Promise<Record<string, number>> {
  log('answer-stream: the bot against the fake Slack and a streaming fake model');
  const openai = await startFakeOpenAI();
  const bot = await startSlackBot({
    transport: 'socket',
    embeddedWorkerId: `bench-answer-stream-${process.pid}`,
    env: {
      SANDBOX_IMAGE: image,
      OPENAI_BASE_URL: openai.baseUrl,
      OPENAI_API_KEY: 'bench',
      OPENAI_MODEL: 'fake-model',
      // Every round is its own person: the per-user message rate is not what is measured.
      USER_RATE_PER_MINUTE: '1000',
    },
  });
  try {
    const visible: number[] = [];
    await streamOnce(0); // warm-up: first-use costs are not the figure
    for (let i = 1; i <= ROUNDS; i += 1) visible.push(await streamOnce(i));
    const p50 = percentile(visible, 50);
    return {
      first_answer_token_visible_p50_ms: p50,
      first_answer_token_visible_p95_ms: percentile(visible, 95),
      slack_edit_interval_ms: STATUS_INTERVAL_MS,
      first_answer_token_visible_vs_edit_interval_ratio: round(p50 / STATUS_INTERVAL_MS),
    };
  } finally {
    await bot.close();
    await openai.close();
  }

  /** One mention answered in a stream: ms from the first token to its first showing. */
  async function streamOnce(round: number): Promise<number> {
    const { slack } = bot;
    const first = `first-piece-${round}`;
    let firstTokenAt = 0;
    let releaseRest = () => {};
    const rest = new Promise<void>((resolve) => (releaseRest = resolve));
    const reply: ScriptedReply = () => ({
      kind: 'stream',
      chunks: [first, ' and the rest of the answer.'],
      gates: [
        new Promise<void>((resolve) =>
          setTimeout(() => {
            firstTokenAt = performance.now();
            resolve();
          }, FIRST_TOKEN_AFTER_MS),
        ),
        rest,
      ],
    });
    openai.script(reply);
    const ts = slack.workspace.nextTs();
    const shown = (c: { method: string; args: object }) =>
      (c.method === 'chat.update' || c.method === 'chat.postMessage') &&
      JSON.stringify(c.args).includes(first);
    await slack.sendEvent(
      appMention(slack.ids, {
        channel: CHANNEL,
        user: `${USER}${round}`,
        ts,
        text: `<@${slack.ids.botUserId}> say something`,
      }),
    );
    const seen = await slack.waitFor(() => slack.calls.find(shown), 'the first piece shown');
    releaseRest();
    await slack.waitFor(
      () =>
        slack.calls.find(
          (c) =>
            c.method === 'chat.postMessage' &&
            c.args.thread_ts === ts &&
            JSON.stringify(c.args).includes('the rest of the answer'),
        ),
      'the final answer',
    );
    return seen.atMs - firstTokenAt;
  }
}
