/**
 * Slack's streaming message API, end to end: where the workspace offers it, the answer streams
 * into the thread with chat.startStream / appendStream / stopStream, to the person who asked,
 * each code cell a task in it, feedback buttons under the finished answer (counted in
 * /metrics); where Slack refuses it, the status message is edited instead, and the workspace
 * is not asked again. The real Bolt app against the fake Slack, the real core in Docker, the
 * scripted fake model releasing its text in steps the test controls.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FEEDBACK_ACTION_ID } from '../../adapters/slack/feedback-buttons.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai-server.ts';
import { startSlackBot, type SlackBot } from '../fakes/fake-slack-harness.ts';
import { appMention, buttonPress } from '../fakes/fake-slack-payloads.ts';

const services = inject('services');

const PIECES = ['The answer is', ' forty-two', ', computed.'];
const ANSWER = PIECES.join('');
const CODE = 'print(6 * 7)';

describe.skipIf(services.sandboxImage === undefined)('Slack: answers that stream', () => {
  let openai: FakeOpenAI;
  let bot: SlackBot;

  beforeAll(async () => {
    openai = await startFakeOpenAI();
    bot = await startSlackBot({
      transport: 'socket',
      embeddedWorkerId: `e2e-slack-streaming-${process.pid}`,
      env: { OPENAI_BASE_URL: openai.baseUrl, OPENAI_API_KEY: 'test', OPENAI_MODEL: 'm' },
    });
  });

  afterAll(async () => {
    await bot.close();
    await openai.close();
  });

  /** A cell, then the answer in pieces; pieces after the first wait for `release(i)`. */
  function scriptTurn(): (index: number) => void {
    const releases: (() => void)[] = [];
    const gates = PIECES.map((_, i) =>
      i === 0 ? undefined : new Promise<void>((resolve) => (releases[i] = resolve)),
    );
    openai.script(
      { kind: 'tool', calls: [{ name: 'python', arguments: JSON.stringify({ code: CODE }) }] },
      { kind: 'stream', chunks: PIECES, gates },
    );
    return (index) => releases[index]?.();
  }

  async function mention(channel: string): Promise<string> {
    const ts = bot.slack.workspace.nextTs();
    await bot.slack.sendEvent(
      appMention(bot.slack.ids, {
        channel,
        user: 'U0ANA',
        ts,
        text: `<@${bot.slack.ids.botUserId}> what is six times seven?`,
      }),
    );
    return ts;
  }

  it('streams the cell as a task and the text as it is written, then adds only the rest', async () => {
    const { streams } = bot.slack.workspace;
    streams.available = true;
    streams.refuseWith = undefined;
    const release = scriptTurn();
    const channel = 'C0STREAMS';
    const ts = await mention(channel);

    const stream = await bot.slack.waitFor(
      () =>
        streams.streams.find(
          (s) => s.message.threadTs === ts && s.message.text.includes(PIECES[0] ?? ''),
        ),
      'the first piece in the stream',
    );
    // Shown while the rest is still being written, to the person who asked, in the thread.
    expect(stream.message.text).toBe(PIECES[0]);
    expect(stream.stopped).toBe(false);
    expect(stream.recipientUserId).toBe('U0ANA');
    const tasks = stream.chunks.filter((c) => c.type === 'task_update');
    expect(tasks.map((t) => [t.id, t.status])).toEqual([
      ['cell-1', 'in_progress'],
      ['cell-1', 'complete'],
    ]);
    expect(tasks[0]?.details).toBe(CODE);
    release(1);
    await bot.slack.waitFor(
      () => (stream.message.text.endsWith(PIECES[1] ?? '') ? true : undefined),
      'the second piece in the stream',
    );
    release(2);
    await bot.slack.waitFor(() => (stream.stopped ? true : undefined), 'the stream stopped');
    expect(stream.message.text).toBe(ANSWER);
    expect(JSON.stringify(stream.message.blocks)).toContain('"type":"feedback_buttons"');

    // Slack's status line under the thread followed the turn: code, then writing.
    const statuses = bot.slack.calls
      .filter((c) => c.method === 'assistant.threads.setStatus' && c.args.thread_ts === ts)
      .map((c) => c.args.status);
    expect(statuses).toEqual(expect.arrayContaining(['is running code…', 'is writing…']));

    // The code that ran follows the stream; the answer's text is not posted a second time.
    const code = await bot.waitForMessage(channel, ts, /print\(6 \* 7\)/);
    expect(code.ts > stream.message.ts).toBe(true);
    expect(
      bot.slack.calls.filter(
        (c) => c.method === 'chat.postMessage' && String(c.args.text).includes('forty-two'),
      ),
    ).toEqual([]);

    // A press of the feedback buttons is counted.
    await bot.slack.socket.deliver(
      'interactive',
      buttonPress(bot.slack.ids, {
        user: 'U0ANA',
        channel,
        message: {
          ts: stream.message.ts,
          threadTs: ts,
          text: stream.message.text,
          blocks: stream.message.blocks,
        },
        actionId: FEEDBACK_ACTION_ID,
        value: 'good',
        responseUrl: bot.slack.responseUrl(),
      }),
    );
    await expect
      .poll(async () => (await bot.metrics.metrics()).match(/^sandbot_answer_feedback_total\{.*/gm))
      .toEqual(['sandbot_answer_feedback_total{platform="slack",value="good"} 1']);
  });

  it('edits the status message where the workspace refuses streaming, and stops asking', async () => {
    const { streams } = bot.slack.workspace;
    streams.available = true;
    streams.refuseWith = 'not_allowed';
    const startsBefore = bot.slack.calls.filter((c) => c.method === 'chat.startStream').length;

    const release = scriptTurn();
    const channel = 'C0NOSTREAM';
    const ts = await mention(channel);
    // The status message shows the answer being written instead.
    const status = await bot.slack.waitFor(
      () =>
        bot
          .messagesIn(channel, ts)
          .find((m) => m.blocks !== undefined && /The answer is$/.test(m.text)),
      'the status message showing the first piece',
    );
    release(1);
    release(2);
    const answer = await bot.waitForMessage(channel, ts, /^The answer is forty-two/);
    expect(answer.text).toBe(`${ANSWER}\n\n\`\`\`\n${CODE}\n\`\`\``);
    expect(answer.ts > status.ts).toBe(true);
    // What people see is the Markdown itself, rendered by Slack in a markdown block.
    expect(answer.blocks).toEqual([
      { type: 'markdown', text: `${ANSWER}\n\n\`\`\`python\n${CODE}\n\`\`\`` },
    ]);
    const starts = () =>
      bot.slack.calls.filter((c) => c.method === 'chat.startStream').length - startsBefore;
    expect(starts()).toBe(1);

    // The next turn in that workspace does not try again.
    const again = scriptTurn();
    again(1);
    again(2);
    const second = await mention('C0NOSTREAM2');
    await bot.waitForMessage('C0NOSTREAM2', second, /^The answer is forty-two/);
    expect(starts()).toBe(1);
  });
});
