/**
 * Slack over Socket Mode, end to end: the real Bolt app (its Socket Mode client and WebClient)
 * against the fake Slack, the real core running code in Docker, and the real openai client
 * against the scripted fake model. One bot serves the whole file; each thread is a sandbox.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GREETING } from '../../adapters/slack/assistant-pane.ts';
import { STOP_ACTION_ID } from '../../adapters/slack/slack-limits.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai-server.ts';
import { startSlackBot, type SlackBot } from '../fakes/fake-slack-harness.ts';
import {
  appMention,
  assistantThreadStarted,
  buttonPress,
  messageEvent,
  slashCommand,
  type MessageFields,
} from '../fakes/fake-slack-payloads.ts';
import type { FakeMessage } from '../fakes/fake-slack-workspace.ts';

const services = inject('services');
const ANA = 'U0ANA';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe.skipIf(services.sandboxImage === undefined)('Slack over Socket Mode', () => {
  let openai: FakeOpenAI;
  let bot: SlackBot;

  /** A new message from Ana: its ts and its fields, for app_mention and message events. */
  function fromAna(
    channel: string,
    text: string,
    extra: Partial<MessageFields> = {},
  ): MessageFields & { ts: string } {
    return { channel, user: ANA, text, ts: bot.slack.workspace.nextTs(), ...extra };
  }
  const mentioning = (text: string) => `<@${bot.slack.ids.botUserId}> ${text}`;
  const uploadedFile = (message: FakeMessage, name: string) => {
    const file = message.files.find((f) => f.name === name);
    return file === undefined ? undefined : bot.slack.workspace.uploads.get(file.id)?.bytes;
  };
  const fileMessage = (channel: string, threadTs: string | undefined, name: string) =>
    bot.slack.waitFor(
      () => bot.messagesIn(channel, threadTs).find((m) => m.files.some((f) => f.name === name)),
      `${name} uploaded to ${channel}/${threadTs ?? 'top level'}`,
    );

  beforeAll(async () => {
    openai = await startFakeOpenAI();
    bot = await startSlackBot({
      transport: 'socket',
      embeddedWorkerId: `e2e-slack-socket-${process.pid}`,
      env: {
        OPENAI_BASE_URL: openai.baseUrl,
        OPENAI_API_KEY: 'test',
        OPENAI_MODEL: 'fake-model',
        MAX_ATTACHMENT_MB: '1',
      },
    });
    bot.slack.workspace.users.set(ANA, 'ana');
  });

  afterAll(async () => {
    await bot.close();
    await openai.close();
  });

  it('connects over Socket Mode after checking its bot token', () => {
    const methods = bot.slack.calls.map((c) => c.method);
    expect(methods.indexOf('auth.test')).toBeLessThan(methods.indexOf('apps.connections.open'));
    expect(bot.slack.calls.find((c) => c.method === 'apps.connections.open')?.token).toBe(
      bot.slack.appToken,
    );
    expect(bot.slack.socket.openConnections).toBe(1);
  });

  describe('a mention with a CSV, then a reply in its thread', () => {
    const channel = 'C0SALES';
    let mention: MessageFields & { ts: string };

    it('reacts at once, then answers in the thread with the code and the plot', async () => {
      const csv = Buffer.from('month,revenue\n1,3\n2,5\n3,4\n');
      const file = bot.slack.addFile('sales.csv', csv, 'text/csv');
      mention = fromAna(channel, mentioning('plot revenue by month'), { files: [file] });
      const code = [
        'import pandas as pd',
        "df = pd.read_csv('/mnt/data/sales.csv')",
        "print('total', df.revenue.sum())",
        "df.plot(x='month', y='revenue')",
      ].join('\n');
      openai.script(
        { kind: 'tool', calls: [{ name: 'python', arguments: JSON.stringify({ code }) }] },
        { kind: 'text', text: 'Revenue totals **12**; it peaked in month 2.' },
      );

      await bot.slack.sendEvent(appMention(bot.slack.ids, mention));
      // Slack also sends the `message` twin of a mention; it must not start a second turn.
      await bot.slack.sendEvent(messageEvent(bot.slack.ids, mention));

      const answer = await bot.waitForMessage(channel, mention.ts, /Revenue totals \*12\*/);
      expect(answer.text).toContain("df = pd.read_csv('/mnt/data/sales.csv')");
      expect(answer.text).not.toContain('```python'); // Slack would show the tag as code
      const plot = await fileMessage(channel, mention.ts, 'plot-1.png');
      expect(uploadedFile(plot, 'plot-1.png')?.subarray(0, 8)).toEqual(PNG_SIGNATURE);

      // The working reaction goes once the answer is in.
      await bot.slack.waitFor(
        () => bot.slack.workspace.reactions.find((r) => r.ts === mention.ts && r.removed),
        'the eyes reaction removed',
      );
      const eyes = bot.slack.workspace.reactions.filter((r) => r.ts === mention.ts);
      expect(eyes).toEqual([{ channel, ts: mention.ts, name: 'eyes', removed: true }]);
      const first = bot.slack.calls.findIndex((c) => c.method === 'reactions.add');
      const posted = bot.slack.calls.findIndex(
        (c) => c.method === 'chat.postMessage' && c.args.thread_ts === mention.ts,
      );
      expect(first).toBeLessThan(posted);
      expect(bot.slack.workspace.hostedFiles.get(String(file.id))?.downloads).toBe(1);
      const asked = JSON.stringify(openai.requests.at(0)?.body.messages);
      expect(asked).toContain('ana: plot revenue by month');
      expect(asked).toContain('[attached: /mnt/data/sales.csv');
      expect(
        bot.messagesIn(channel, mention.ts).filter((m) => /Revenue/.test(m.text)),
      ).toHaveLength(1);
    });

    it('continues the thread without a mention, reusing its variables', async () => {
      // A reply in a thread the bot never joined is not for it.
      const stranger = fromAna(channel, 'run print("not for you")', { threadTs: '1.000001' });
      await bot.slack.sendEvent(messageEvent(bot.slack.ids, stranger));

      const reply = fromAna(channel, 'run print(len(df), df.revenue.max())', {
        threadTs: mention.ts,
      });
      await bot.slack.sendEvent(messageEvent(bot.slack.ids, reply));
      const answer = await bot.waitForMessage(channel, mention.ts, /^```\n3 5\n```/);
      expect(answer.text).toBe('```\n3 5\n```\n\n```\nprint(len(df), df.revenue.max())\n```');
      expect(bot.messagesIn(channel, '1.000001')).toEqual([]);
    });

    it('processes a redelivered event once', async () => {
      const reply = fromAna(channel, 'run print("once")', { threadTs: mention.ts });
      const { body } = await bot.slack.sendEvent(messageEvent(bot.slack.ids, reply));
      await bot.waitForMessage(channel, mention.ts, /^```\nonce\n```/);
      const ack = await bot.slack.socket.deliver('events_api', body, { retryAttempt: 1 });
      expect(ack.envelopeId).toBeTruthy();
      // A later message is answered; by then the redelivery has long been handled.
      const later = fromAna(channel, 'run print("later")', { threadTs: mention.ts });
      await bot.slack.sendEvent(messageEvent(bot.slack.ids, later));
      await bot.waitForMessage(channel, mention.ts, /^```\nlater\n```/);
      const onces = bot.messagesIn(channel, mention.ts).filter((m) => m.text.includes('once'));
      expect(onces).toHaveLength(1);
      expect(bot.slack.workspace.reactions.filter((r) => r.ts === reply.ts)).toHaveLength(1);
    });
  });

  it('answers a DM in a thread under the message', async () => {
    // Slack escapes &, < and > in what people type; the code must run as typed.
    const dm = fromAna('D0ANA', 'run print(6 * 7, 1 &lt; 2, 3 &amp; 1)', { channelType: 'im' });
    await bot.slack.sendEvent(messageEvent(bot.slack.ids, dm));
    const answer = await bot.waitForMessage('D0ANA', dm.ts, /^```\n42 True 1\n```/);
    // The output, then the code as Slack shows it (escaped, as Slack sent it).
    expect(answer.text).toBe('```\n42 True 1\n```\n\n```\nprint(6 * 7, 1 &lt; 2, 3 &amp; 1)\n```');
    expect(bot.messagesIn('D0ANA', undefined)).toEqual([]);
  });

  it('greets in the assistant pane, shows its status, and answers there', async () => {
    const pane = { channel: 'D0PANE', threadTs: bot.slack.workspace.nextTs() };
    await bot.slack.sendEvent(assistantThreadStarted(bot.slack.ids, { user: ANA, ...pane }));
    const greeting = await bot.waitForMessage(pane.channel, pane.threadTs, /I run Python for you/);
    expect(greeting.text).toBe(GREETING);
    const prompts = await bot.slack.waitFor(
      () => bot.slack.calls.find((c) => c.method === 'assistant.threads.setSuggestedPrompts'),
      'suggested prompts',
    );
    expect(prompts.args).toMatchObject({ channel_id: pane.channel, thread_ts: pane.threadTs });
    expect(JSON.stringify(prompts.args.prompts)).toContain('"message":"help"');

    const question = fromAna(pane.channel, 'run print(2 ** 10)', {
      channelType: 'im',
      threadTs: pane.threadTs,
    });
    await bot.slack.sendEvent(messageEvent(bot.slack.ids, question));
    const answer = await bot.waitForMessage(pane.channel, pane.threadTs, /^```\n1024\n```/);
    expect(answer.text).toBe('```\n1024\n```\n\n```\nprint(2 ** 10)\n```');
    const status = bot.slack.calls.find(
      (c) => c.method === 'assistant.threads.setStatus' && c.args.thread_ts === pane.threadTs,
    );
    expect(status?.args).toMatchObject({
      channel_id: pane.channel,
      thread_ts: pane.threadTs,
      status: 'is working on it…',
    });
  });

  it('runs `/sandbot run` and `/sandbot export` in the channel, acknowledged at once', async () => {
    const channel = 'C0SLASH';
    const command = (text: string) =>
      slashCommand(bot.slack.ids, {
        channel,
        user: ANA,
        text,
        responseUrl: bot.slack.responseUrl(),
      });
    const ran = await bot.slack.socket.deliver(
      'slash_commands',
      command('run x = 21 * 2\nprint(x)'),
    );
    expect(ran.envelopeId).toBeTruthy();
    // The answer, headed by who asked (the status message before it has no heading).
    const answer = await bot.waitForMessage(channel, undefined, /^<@U0ANA> used `\/sandbot run /);
    expect(answer.text).toBe(
      '<@U0ANA> used `/sandbot run x = 21 * 2 …`\n```\n42\n```\n\n```\nx = 21 * 2\nprint(x)\n```',
    );

    await bot.slack.socket.deliver('slash_commands', command('export'));
    const exported = await bot.waitForMessage(channel, undefined, /used `\/sandbot export`/);
    expect(exported.text).toBe(
      '<@U0ANA> used `/sandbot export`\nThe 1 cell(s) of this thread, with their outputs.',
    );
    const notebook = await fileMessage(channel, undefined, 'thread.ipynb');
    const cells = (
      JSON.parse(uploadedFile(notebook, 'thread.ipynb')?.toString() ?? '{}') as {
        cells: { source: string | string[] }[];
      }
    ).cells.map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source));
    expect(cells.join('\n')).toContain('x = 21 * 2');
  });

  it('stops a long cell when Stop is pressed on the status message', async () => {
    const channel = 'C0STOP';
    const code =
      'import time\nfor i in range(300):\n    print("tick", i, flush=True)\n    time.sleep(0.2)';
    const mention = fromAna(channel, mentioning(`run ${code}`));
    await bot.slack.sendEvent(appMention(bot.slack.ids, mention));

    // The status message shows the running code's output as it streams, with a Stop button.
    const status = await bot.slack.waitFor(
      () =>
        bot
          .messagesIn(channel, mention.ts)
          .find((m) => m.edits > 0 && /tick \d+/.test(m.text) && m.blocks !== undefined),
      'a status message showing output',
    );
    const button = (status.blocks as { elements?: { action_id: string; value: string }[] }[])
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === STOP_ACTION_ID);
    expect(button?.value).toBe(`slack:${bot.slack.ids.teamId}:${channel}:${mention.ts}`);

    const pressed = buttonPress(bot.slack.ids, {
      user: ANA,
      channel,
      message: { ts: status.ts, threadTs: mention.ts, text: status.text, blocks: status.blocks },
      actionId: STOP_ACTION_ID,
      value: button?.value ?? '',
      responseUrl: bot.slack.responseUrl(),
    });
    await bot.slack.socket.deliver('interactive', pressed);
    const stopping = await bot.waitForMessage(channel, mention.ts, /Stopping the running cell/);
    expect(stopping.text).toBe('Stopping the running cell.');
    const answer = await bot.waitForMessage(channel, mention.ts, /^```[\s\S]*KeyboardInterrupt/);
    expect(answer.text).not.toMatch(/tick 299/);
    // The status message and its button are gone once the answer is in: deleted, leaving
    // the thread with the two replies only.
    const deleted = await bot.slack.waitFor(
      () => bot.slack.calls.find((c) => c.method === 'chat.delete' && c.args.ts === status.ts),
      'the status message deleted',
    );
    expect(deleted.ok).toBe(true);
    expect(bot.messagesIn(channel, mention.ts).map((m) => m.text)).toEqual([
      stopping.text,
      answer.text,
    ]);
  });

  it('waits out a 429 on a status update and the update still lands', async () => {
    const channel = 'C0RATE';
    bot.slack.failNext('chat.update', { status: 429, retryAfterS: 1 });
    const code =
      'import time\nfor i in range(10):\n    print("step", i, flush=True)\n    time.sleep(0.4)';
    const mention = fromAna(channel, mentioning(`run ${code}`));
    await bot.slack.sendEvent(appMention(bot.slack.ids, mention));
    await bot.waitForMessage(channel, mention.ts, /^```\nstep 0[\s\S]*step 9/);

    const updates = bot.slack.calls.filter(
      (c) => c.method === 'chat.update' && c.args.channel === channel,
    );
    // The fake, like Slack, answers 429 to every chat.update until Retry-After has passed: one
    // 429 only means the bot honoured it before trying again.
    const limited = updates.filter((c) => c.status === 429);
    expect(limited).toHaveLength(1);
    const retried = updates.find(
      (c) => c.ok && c.args.ts === limited[0]?.args.ts && c.args.text === limited[0]?.args.text,
    );
    expect(retried).toBeDefined();
  });

  it('refuses an attachment over the size limit with a clear reply', async () => {
    const channel = 'C0BIG';
    const big = bot.slack.addFile('big.csv', Buffer.alloc(1_500_000, 'a'), 'text/csv');
    const mention = fromAna(channel, mentioning('summarise this'), { files: [big] });
    openai.script({ kind: 'text', text: 'There was no file for me to read.' });
    await bot.slack.sendEvent(appMention(bot.slack.ids, mention));
    const answer = await bot.waitForMessage(channel, mention.ts, /over the 1(\.0)? MB limit/);
    expect(answer.text).toContain('big.csv is 1.4 MB');
    expect(bot.slack.workspace.hostedFiles.get(String(big.id))?.downloads).toBe(0);
  });
});
