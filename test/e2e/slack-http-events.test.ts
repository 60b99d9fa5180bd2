/**
 * Slack over HTTP events, end to end: the fake Slack posts signed requests to /slack/events on
 * the bot's one HTTP server, where Bolt's receiver verifies and acknowledges them; the bot
 * answers through the Web API of the same fake. Real core, real Docker, one bot for the file.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { STOP_ACTION_ID } from '../../adapters/slack/slack-limits.ts';
import { startSlackBot, type SlackBot } from '../fakes/fake-slack-harness.ts';
import {
  commandBody,
  eventBody,
  interactionBody,
  postSigned,
  slackSignature,
  type SignedPostOptions,
} from '../fakes/fake-slack-http-events.ts';
import {
  appMention,
  buttonPress,
  eventCallback,
  messageEvent,
  slashCommand,
} from '../fakes/fake-slack-payloads.ts';

const services = inject('services');
const ANA = 'U0ANA';

describe.skipIf(services.sandboxImage === undefined)('Slack over HTTP events', () => {
  let bot: SlackBot;
  const signed = (extra: Partial<SignedPostOptions> = {}): SignedPostOptions => ({
    signingSecret: bot.slack.signingSecret,
    ...extra,
  });
  const mentionEvent = (channel: string, text: string, ts = bot.slack.workspace.nextTs()) => ({
    ts,
    body: eventCallback(
      bot.slack.ids,
      appMention(bot.slack.ids, {
        channel,
        user: ANA,
        ts,
        text: `<@${bot.slack.ids.botUserId}> ${text}`,
      }),
    ),
  });

  beforeAll(async () => {
    bot = await startSlackBot({
      transport: 'http',
      embeddedWorkerId: `e2e-slack-http-${process.pid}`,
      env: {
        // The core's access policy, with Slack channel ids.
        ALLOWED_CHANNELS: ['C0HTTP', 'C0HTTPBAD', 'C0HTTPSLASH', 'C0HTTPSTOP', 'C0NOTIN']
          .map((c) => `slack:${c}`)
          .join(','),
      },
    });
  });

  afterAll(async () => {
    await bot.close();
  });

  it("answers Slack's URL verification challenge", async () => {
    const answer = await postSigned(
      bot.eventsUrl,
      eventBody({ token: 'unused', challenge: 'c-123', type: 'url_verification' }),
      signed(),
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ challenge: 'c-123' });
  });

  it('refuses requests with a bad or a stale signature', async () => {
    const bad = mentionEvent('C0HTTPBAD', 'run print("forged")');
    const forged = await postSigned(bot.eventsUrl, eventBody(bad.body), {
      ...signed(),
      signature: slackSignature('not-the-signing-secret', Math.floor(Date.now() / 1000), 'x'),
    });
    expect(forged.status).toBe(401);
    const stale = mentionEvent('C0HTTPBAD', 'run print("replayed")');
    const replayed = await postSigned(
      bot.eventsUrl,
      eventBody(stale.body),
      // Correctly signed, but six minutes old: a replay.
      signed({ timestampS: Math.floor(Date.now() / 1000) - 6 * 60 }),
    );
    expect(replayed.status).toBe(401);
    expect(bot.slack.calls.filter((c) => c.args.channel === 'C0HTTPBAD')).toEqual([]);
  });

  describe('a mention answered over HTTP', () => {
    const channel = 'C0HTTP';
    let thread: string;

    it('answers once even when Slack retries the delivery', async () => {
      const { ts, body } = mentionEvent(channel, 'run x = 6 * 7\nprint(x)');
      thread = ts;
      const first = await postSigned(bot.eventsUrl, eventBody(body), signed());
      expect(first.status).toBe(200);
      const retry = await postSigned(bot.eventsUrl, eventBody(body), signed({ retryNum: 1 }));
      expect(retry.status).toBe(200);
      await bot.waitForMessage(channel, ts, /^```\n42\n```/);
      // Another turn in the thread finishes after the retry has been dealt with.
      const next = mentionEvent(channel, 'run print(x + 1)');
      const nextBody = eventCallback(bot.slack.ids, {
        ...(next.body.event as object),
        thread_ts: ts,
      });
      await postSigned(bot.eventsUrl, eventBody(nextBody), signed());
      await bot.waitForMessage(channel, ts, /^```\n43\n```/);
      expect(bot.messagesIn(channel, ts).filter((m) => /^```\n42/.test(m.text))).toHaveLength(1);
    });

    it('ignores other bots and itself in an active thread', async () => {
      const ids = bot.slack.ids;
      const fromBot = messageEvent(ids, {
        channel,
        user: 'U0OTHERBOT',
        botId: 'B0OTHER',
        subtype: 'bot_message',
        text: 'run print("from a bot")',
        ts: bot.slack.workspace.nextTs(),
        threadTs: thread,
      });
      const fromSelf = messageEvent(ids, {
        channel,
        user: ids.botUserId,
        botId: ids.botId,
        text: 'run print("from myself")',
        ts: bot.slack.workspace.nextTs(),
        threadTs: thread,
      });
      const fromAna = messageEvent(ids, {
        channel,
        user: ANA,
        text: 'run print("from ana")',
        ts: bot.slack.workspace.nextTs(),
        threadTs: thread,
      });
      for (const event of [fromBot, fromSelf, fromAna]) {
        const answer = await postSigned(
          bot.eventsUrl,
          eventBody(eventCallback(ids, event)),
          signed(),
        );
        expect(answer.status).toBe(200);
      }
      await bot.waitForMessage(channel, thread, /^```\nfrom ana\n```/);
      const texts = bot.messagesIn(channel, thread).map((m) => m.text);
      expect(texts.join('\n')).not.toMatch(/^from (a bot|myself)$/m);
    });

    it('says which file could not be uploaded when Slack refuses the upload', async () => {
      bot.slack.failNext('files.completeUploadExternal', { error: 'internal_error' });
      const next = mentionEvent(channel, "run open('/mnt/data/report.txt', 'w').write('hi')");
      const body = eventCallback(bot.slack.ids, {
        ...(next.body.event as object),
        thread_ts: thread,
      });
      await postSigned(bot.eventsUrl, eventBody(body), signed());
      const notice = await bot.waitForMessage(channel, thread, /could not upload/);
      expect(notice.text).toBe('⚠️ I could not upload `report.txt` to Slack (internal_error).');
    });
  });

  it('acknowledges `/sandbot run` before the code has finished, then posts the result', async () => {
    const channel = 'C0HTTPSLASH';
    const fields = slashCommand(bot.slack.ids, {
      channel,
      user: ANA,
      text: 'run import time; time.sleep(2); print("slept")',
      responseUrl: bot.slack.responseUrl(),
    });
    const answer = await postSigned(bot.eventsUrl, commandBody(fields), signed());
    expect(answer.status).toBe(200);
    // Visible at once to the person who asked (Slack shows the ack's text ephemerally).
    expect(answer.body).toContain('Working on');
    // The acknowledgement did not wait for the two-second cell.
    // (The status message may already show the code, so look for the answer's form only.)
    expect(bot.messagesIn(channel, undefined).some((m) => /```\nslept\n```/.test(m.text))).toBe(
      false,
    );
    // The answer, not the status message that shows the output on its way.
    await bot.waitForMessage(
      channel,
      undefined,
      /^<@U0ANA> used `\/sandbot run import time; time.sleep[^`]*`\n```\nslept\n```/,
    );
  });

  it('takes a Stop press over HTTP interactivity', async () => {
    const channel = 'C0HTTPSTOP';
    const threadTs = bot.slack.workspace.nextTs();
    const press = buttonPress(bot.slack.ids, {
      user: ANA,
      channel,
      message: { ts: bot.slack.workspace.nextTs(), threadTs, text: 'status', blocks: [] },
      actionId: STOP_ACTION_ID,
      value: `slack:${bot.slack.ids.teamId}:${channel}:${threadTs}`,
      responseUrl: bot.slack.responseUrl(),
    });
    const answer = await postSigned(bot.eventsUrl, interactionBody(press), signed());
    expect(answer.status).toBe(200);
    await bot.waitForMessage(channel, threadTs, /Nothing is running/);
  });

  it('answers in a channel outside ALLOWED_CHANNELS only to say so', async () => {
    const { ts, body } = mentionEvent('C0ELSEWHERE', 'run print("hello")');
    await postSigned(bot.eventsUrl, eventBody(body), signed());
    const answer = await bot.waitForMessage('C0ELSEWHERE', ts, /not enabled in this channel/);
    expect(answer.text).toContain('ALLOWED_CHANNELS');
  });

  it('tells the person privately when it cannot post in the channel', async () => {
    bot.slack.failNext('chat.postMessage', { error: 'not_in_channel' });
    const fields = slashCommand(bot.slack.ids, {
      channel: 'C0NOTIN',
      user: ANA,
      text: 'help',
      responseUrl: bot.slack.responseUrl(),
    });
    const answer = await postSigned(bot.eventsUrl, commandBody(fields), signed());
    expect(answer.status).toBe(200);
    const told = await bot.slack.waitFor(() => bot.slack.responses.at(-1), 'a response_url post');
    expect(told).toMatchObject({ response_type: 'ephemeral' });
    expect(JSON.stringify(told)).toContain('/invite @sandbot');
  });
});
