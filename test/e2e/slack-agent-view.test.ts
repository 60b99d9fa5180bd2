/**
 * The agent view (features.agent_view): opening the bot's DM sets the suggested prompts for it,
 * without naming a thread (Slack ignores a thread there); a DM message is answered in its own
 * thread, titled after the question; `app_context_changed` is taken without a reply. The real Bolt app over Socket Mode against the fake Slack.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SUGGESTED_PROMPTS } from '../../adapters/slack/assistant-pane.ts';
import { startSlackBot, type SlackBot } from '../fakes/fake-slack-harness.ts';
import { appHomeOpened } from '../fakes/fake-slack-interactions.ts';
import { messageEvent } from '../fakes/fake-slack-payloads.ts';

const services = inject('services');

describe.skipIf(!services.docker)('Slack: the agent view', () => {
  let bot: SlackBot;

  beforeAll(async () => {
    bot = await startSlackBot({
      transport: 'socket',
      embeddedWorkerId: `e2e-slack-agent-view-${process.pid}`,
    });
  });

  afterAll(async () => {
    await bot.close();
  });

  it('sets the suggested prompts when someone opens the DM', async () => {
    await bot.slack.sendEvent(
      appHomeOpened(bot.slack.ids, { user: 'U0ANA', channel: 'D0ANA', tab: 'messages' }),
    );
    const prompts = await bot.slack.waitFor(
      () => bot.slack.calls.find((c) => c.method === 'assistant.threads.setSuggestedPrompts'),
      'the suggested prompts',
    );
    expect(prompts.ok).toBe(true);
    expect(prompts.args.channel_id).toBe('D0ANA');
    expect(prompts.args.thread_ts).toBeUndefined();
    expect(prompts.args.prompts).toEqual(SUGGESTED_PROMPTS);
    // The Home tab is not what was opened.
    expect(bot.slack.calls.some((c) => c.method === 'views.publish')).toBe(false);
  });

  it('answers a DM message in its own thread, titled after the question', async () => {
    const ts = bot.slack.workspace.nextTs();
    await bot.slack.sendEvent(
      messageEvent(bot.slack.ids, {
        channel: 'D0ANA',
        channelType: 'im',
        user: 'U0ANA',
        ts,
        text: 'help\nand more lines after the first',
      }),
    );
    const answer = await bot.waitForMessage('D0ANA', ts, /./);
    expect(answer.threadTs).toBe(ts);
    const title = bot.slack.calls.find((c) => c.method === 'assistant.threads.setTitle');
    expect(title?.args).toMatchObject({ channel_id: 'D0ANA', thread_ts: ts, title: 'help' });
    // The turn's tail: the 👀 put on the question comes off once the answer is in (the add
    // itself may land after the answer: it goes out once the turn's first work has).
    const removed = await bot.slack.waitFor(
      () => bot.slack.calls.find((c) => c.method === 'reactions.remove' && c.args.timestamp === ts),
      'the working reaction removed',
    );
    const added = bot.slack.calls.findIndex(
      (c) => c.method === 'reactions.add' && c.args.timestamp === ts && c.ok,
    );
    expect(added).toBeGreaterThanOrEqual(0);
    expect(bot.slack.calls.indexOf(removed)).toBeGreaterThan(added);
  });

  it('takes app_context_changed without posting anything', async () => {
    const before = bot.slack.calls.length;
    await bot.slack.sendEvent({
      type: 'app_context_changed',
      user: 'U0ANA',
      context: { channel_id: 'C0DATA' },
      event_ts: (Date.now() / 1000).toFixed(6),
    });
    expect(bot.slack.calls.slice(before).map((c) => c.method)).toEqual([]);
  });
});
