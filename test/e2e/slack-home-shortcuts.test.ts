/**
 * Slack's Home tab, shortcuts and the app's lifecycle, end to end: the real Bolt app over
 * Socket Mode against the fake Slack, the real core running code in Docker, the scripted
 * fake model. "Analyze with sandbot" on a message with a CSV answers in its thread with the
 * CSV in /mnt/data; "New analysis" asks in a modal and answers in a DM thread; the Home tab,
 * published when opened, lists the person's threads with links and the limits; a workspace
 * that revoked the bot's token gets nothing more while another still does.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ANALYZE_MESSAGE_CALLBACK_ID } from '../../adapters/slack/analyze-message-shortcut.ts';
import {
  NEW_ANALYSIS_CALLBACK_ID,
  QUESTION_ACTION_ID,
  QUESTION_BLOCK_ID,
} from '../../adapters/slack/new-analysis-shortcut.ts';
import {
  startFakeOpenAI,
  type FakeOpenAI,
  type RecordedRequest,
} from '../fakes/fake-openai-server.ts';
import { startSlackBot, type SlackBot } from '../fakes/fake-slack-harness.ts';
import {
  appHomeOpened,
  globalShortcut,
  messageShortcut,
  tokensRevoked,
  viewSubmission,
} from '../fakes/fake-slack-interactions.ts';
import { appMention, eventCallback } from '../fakes/fake-slack-payloads.ts';

const services = inject('services');
const ANA = 'U0ANA';
const BO = 'U0BO';

type ChatMessage = { role: string; content: unknown };
const messagesOf = (request: RecordedRequest | undefined) =>
  (request?.body.messages ?? []) as ChatMessage[];

describe.skipIf(services.sandboxImage === undefined)('Slack Home tab and shortcuts', () => {
  let openai: FakeOpenAI;
  let bot: SlackBot;

  /** All the text of a view's blocks, for matching. */
  const viewText = (view: Record<string, unknown> | undefined) => JSON.stringify(view ?? {});

  beforeAll(async () => {
    openai = await startFakeOpenAI();
    bot = await startSlackBot({
      transport: 'socket',
      embeddedWorkerId: `e2e-slack-home-${process.pid}`,
      env: {
        OPENAI_BASE_URL: openai.baseUrl,
        OPENAI_API_KEY: 'test',
        OPENAI_MODEL: 'fake-model',
        MAX_ATTACHMENT_MB: '1',
        USER_RATE_PER_MINUTE: '30',
      },
    });
    bot.slack.workspace.users.set(ANA, 'ana');
    bot.slack.workspace.users.set(BO, 'bo');
  });

  afterAll(async () => {
    await bot.close();
    await openai.close();
  });

  it("'Analyze with sandbot' on a message with a CSV answers in its thread, the CSV in /mnt/data", async () => {
    const { slack } = bot;
    const channel = 'C0SHORTCUT';
    const csv = slack.addFile('sales.csv', Buffer.from('month,revenue\n7,10\n8,12\n'), 'text/csv');
    const message = slack.workspace.addUserMessage({
      channel,
      user: BO,
      text: 'Q3 sales are in',
      files: [csv],
    });
    const code = "print(open('/mnt/data/sales.csv').read())";
    openai.script(
      { kind: 'tool', calls: [{ name: 'python', arguments: JSON.stringify({ code }) }] },
      { kind: 'text', text: 'Revenue grew **20%** in August.' },
    );

    const ack = await slack.socket.deliver(
      'interactive',
      messageShortcut(slack.ids, {
        user: ANA,
        callbackId: ANALYZE_MESSAGE_CALLBACK_ID,
        channel,
        responseUrl: slack.responseUrl(),
        message: { user: BO, text: message.text, ts: message.ts, files: [csv] },
      }),
    );
    expect(ack.envelopeId).toBeTruthy();
    const answer = await bot.waitForMessage(channel, message.ts, /Revenue grew \*20%\*/);

    expect(answer.text).toContain(`<@${ANA}> used *Analyze with sandbot*`);
    const first = JSON.stringify(messagesOf(openai.requests.at(-2)));
    expect(first).toContain('Analyze this message and its files:\\n\\nQ3 sales are in');
    expect(first).toContain('[attached: /mnt/data/sales.csv');
    const tool = messagesOf(openai.requests.at(-1)).findLast((m) => m.role === 'tool');
    expect(JSON.stringify(tool?.content)).toContain('month,revenue\\n7,10\\n8,12');
    expect(slack.workspace.hostedFiles.get(String(csv.id))?.downloads).toBe(1);
  });

  it("'New analysis' asks in a modal and answers in a thread of the person's DM", async () => {
    const { slack } = bot;
    await slack.socket.deliver(
      'interactive',
      globalShortcut(slack.ids, { user: ANA, callbackId: NEW_ANALYSIS_CALLBACK_ID }),
    );
    const modal = await slack.waitFor(() => slack.surfaces.modals.at(-1), 'the modal to open');
    expect(viewText(modal.view)).toMatch(/mention me in a channel with them attached/);
    openai.script({ kind: 'text', text: 'Six times seven is 42.' });

    await slack.socket.deliver(
      'interactive',
      viewSubmission(slack.ids, {
        user: ANA,
        view: modal.view,
        values: { [QUESTION_BLOCK_ID]: { [QUESTION_ACTION_ID]: 'What is 6 times 7?' } },
      }),
    );
    const dm = slack.surfaces.dmOf(ANA);
    const root = await bot.waitForMessage(dm, undefined, /New analysis/);
    expect(root.text).toContain('> What is 6 times 7?');
    await bot.waitForMessage(dm, root.ts, /Six times seven is 42/);
    expect(JSON.stringify(messagesOf(openai.requests.at(-1)))).toContain('What is 6 times 7?');
    const opened = slack.calls.filter((c) => c.method === 'conversations.open');
    expect(opened.map((c) => c.args.users)).toEqual([ANA]);
  });

  it('publishes the Home tab when it is opened, with recent threads, links and limits', async () => {
    const { slack } = bot;
    const channel = 'C0HOME';
    const mention = slack.workspace.addUserMessage({
      channel,
      user: ANA,
      text: `<@${slack.ids.botUserId}> run print(6 * 7)`,
    });
    await slack.sendEvent(
      appMention(slack.ids, { channel, user: ANA, text: mention.text, ts: mention.ts }),
    );
    await bot.waitForMessage(channel, mention.ts, /42/);

    // The Messages tab is not the Home tab: nothing is published for it.
    await slack.sendEvent(
      appHomeOpened(slack.ids, { user: ANA, channel: 'D0ANA', tab: 'messages' }),
    );
    await slack.sendEvent(appHomeOpened(slack.ids, { user: ANA, channel: 'D0ANA', tab: 'home' }));
    const home = await slack.waitFor(() => slack.surfaces.homeOf(ANA), "Ana's Home tab");
    expect(slack.surfaces.published).toHaveLength(1);
    const text = viewText(home);

    expect(text).toContain('I run Python for you in a sandbox');
    expect(text).toContain('`export`');
    const link = (ts: string, ch: string) =>
      `<https://fake-workspace.slack.com/archives/${ch}/p${ts.replace('.', '')}|`;
    expect(text).toContain(`${link(mention.ts, channel)}run print(6 * 7)> in <#${channel}>`);
    expect(text).toContain('|What is 6 times 7?> in our DM');
    expect(text).toContain('Q3 sales are in> in <#C0SHORTCUT>');
    // Newest first.
    expect(text.indexOf('run print')).toBeLessThan(text.indexOf('What is 6 times 7?'));
    expect(text).toMatch(/Each code cell runs for at most \d+ (s|min)/);
    expect(text).toContain('Up to ');
    expect(text).toContain('1.0 MB each');
    expect(text).toContain('30 requests a minute per person');
    expect(text).toContain('384 MB of memory');
    // The person's usage today, as `status` says it.
    expect(text).toMatch(
      /\*Your usage\*\\nYou today \(\d{4}-\d{2}-\d{2}, UTC\): [\d,]+ tokens in, [\d,]+ out/,
    );

    // Someone else's tab lists none of Ana's threads.
    await slack.sendEvent(appHomeOpened(slack.ids, { user: BO, channel: 'D0BO', tab: 'home' }));
    const bos = await slack.waitFor(() => slack.surfaces.homeOf(BO), "Bo's Home tab");
    expect(viewText(bos)).toContain('None yet');
  });

  it('stops a workspace whose bot token was revoked; another workspace is still answered', async () => {
    const { slack } = bot;
    const requestsBefore = openai.requests.length;
    await slack.sendEvent(tokensRevoked({ bot: [slack.ids.botUserId] }));

    const channel = 'C0REVOKED';
    const refused = {
      channel,
      user: ANA,
      text: `<@${slack.ids.botUserId}> run print(1)`,
      ts: slack.workspace.nextTs(),
    };
    await slack.sendEvent(appMention(slack.ids, refused));
    // A shortcut from the stopped workspace is acknowledged (Slack wants that) but opens nothing.
    const modalsBefore = slack.surfaces.modals.length;
    await slack.socket.deliver(
      'interactive',
      globalShortcut(slack.ids, { user: ANA, callbackId: NEW_ANALYSIS_CALLBACK_ID }),
    );

    // The same app installed in another workspace (an org-wide install) keeps working; its
    // answer, which comes after the refused mention was taken, marks that all was handled.
    const other = { ...slack.ids, teamId: 'T0OTHERTEAM' };
    const otherChannel = 'C0OTHER';
    const asked = {
      channel: otherChannel,
      user: BO,
      text: `<@${slack.ids.botUserId}> run print(2 + 3)`,
      ts: slack.workspace.nextTs(),
    };
    await slack.socket.deliver('events_api', eventCallback(other, appMention(other, asked)));
    await bot.waitForMessage(otherChannel, asked.ts, /5/);

    expect(bot.messagesIn(channel, refused.ts)).toEqual([]);
    expect(slack.workspace.reactions.filter((r) => r.channel === channel)).toEqual([]);
    expect(slack.surfaces.modals).toHaveLength(modalsBefore);
    expect(openai.requests.length).toBe(requestsBefore);
  });
});
