/**
 * What a durable turn needs from the Slack adapter, end to end: the real Bolt app (Socket
 * Mode and WebClient) against the fake Slack. The adapter's contract is with the conversation
 * port, so a recording port stands in for the core here: it keeps each inbound message and
 * its reply. A second adapter, built from the same settings as another bot process would
 * build it, rebuilds replies from their addresses and fetches attachments by reference.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackAdapter } from '../../adapters/slack/slack-adapter.ts';
import { parseConfig } from '../../src/config/config.ts';
import { MemoryDeliveryGuard } from '../../src/conversation/delivery-guard-stores.ts';
import type { AdapterContext, ConversationPort } from '../../src/core/chat-adapter.ts';
import type { InboundMessage } from '../../src/core/inbound-message.ts';
import { textReply, type ReplyAddress, type ThreadReply } from '../../src/core/reply.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack-server.ts';
import { appMention, slashCommand, type MessageFields } from '../fakes/fake-slack-payloads.ts';

const ANA = 'U0ANA';

interface Turn {
  readonly message: InboundMessage;
  readonly thread: ThreadReply;
}

/** The conversation port as the adapter sees it, keeping what it is handed. */
class RecordingConversation implements ConversationPort {
  readonly turns: Turn[] = [];
  private readonly waiters: (() => void)[] = [];

  handle(message: InboundMessage, thread: ThreadReply): Promise<void> {
    this.turns.push({ message, thread });
    for (const wake of this.waiters.splice(0)) wake();
    return Promise.resolve();
  }

  hasSession(): Promise<boolean> {
    return Promise.resolve(false);
  }

  admits(): { allowed: true } {
    return { allowed: true };
  }

  /** The first turn matching, once the adapter has handed it over. */
  async turnFor(match: (message: InboundMessage) => boolean): Promise<Turn> {
    for (;;) {
      const turn = this.turns.find((t) => match(t.message));
      if (turn !== undefined) return turn;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

describe('Slack replies any bot process can rebuild', () => {
  let slack: FakeSlack;
  let conversation: RecordingConversation;
  /** The process that took the messages. */
  let first: SlackAdapter;
  /** Another process (or the first one restarted): never saw the messages. */
  let second: SlackAdapter;

  function adapter(recorder: ConversationPort): SlackAdapter {
    const parsed = parseConfig({
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_APP_TOKEN: slack.appToken,
      SLACK_API_URL: slack.apiUrl,
    });
    if (!parsed.ok) throw new Error(`bad test settings: ${JSON.stringify(parsed.problems)}`);
    const context: AdapterContext = {
      config: parsed.config,
      conversation: recorder,
      deliveries: new MemoryDeliveryGuard(),
      // Socket Mode mounts no HTTP route.
      http: { mount: () => undefined, url: 'http://127.0.0.1:0' },
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    };
    // The status message shows with the first progress, so a test need not wait it out.
    return new SlackAdapter(context, { statusDelayMs: 0 });
  }

  /** Ana mentions the bot in a channel; resolves with the turn the adapter handed over. */
  async function mention(channel: string, text: string, extra: Partial<MessageFields> = {}) {
    const fields = { channel, user: ANA, text, ts: slack.workspace.nextTs(), ...extra };
    const bot = `<@${slack.ids.botUserId}> `;
    await slack.sendEvent(appMention(slack.ids, { ...fields, text: `${bot}${text}` }));
    const turn = await conversation.turnFor((m) => m.order === fields.ts);
    return { ts: fields.ts, turn };
  }

  /** The address as a store gives it back: JSON, never the object the first process made. */
  function stored(thread: ThreadReply): ReplyAddress {
    expect(thread.address).toBeDefined();
    return JSON.parse(JSON.stringify(thread.address)) as ReplyAddress;
  }

  const callsOf = (method: string) => slack.calls.filter((c) => c.method === method);

  beforeAll(async () => {
    slack = await startFakeSlack();
    slack.workspace.users.set(ANA, 'ana');
    conversation = new RecordingConversation();
    first = adapter(conversation);
    second = adapter(new RecordingConversation());
    // Slack sends each event to one of an app's connections; the fake, to the newest. The
    // events must reach the first process, so it connects last.
    await second.start();
    await first.start();
  });

  afterAll(async () => {
    await first.stop();
    await second.stop();
    await slack.close();
  });

  it('delivers messages with their Slack id, order and file references', async () => {
    const csv = slack.addFile('sales.csv', Buffer.from('month,revenue\n1,3\n'), 'text/csv');
    const { ts, turn } = await mention('C0IDS', 'plot this', { files: [csv] });
    const { message, thread } = turn;
    expect(message.messageId).toBe(`${slack.ids.teamId}:C0IDS:${ts}`);
    expect(message.order).toBe(ts);
    expect(message.attachments.map((a) => [a.name, a.ref])).toEqual([['sales.csv', csv.id]]);
    expect(stored(thread)).toEqual({
      surface: 'slack',
      team: slack.ids.teamId,
      channel: 'C0IDS',
      threadTs: ts,
      sessionKey: message.sessionKey,
      ack: 'reaction',
      ackTs: ts,
      statusAtOnce: true,
      // Who asked: a rebuilt reply streams its answer to them (Slack wants the recipient).
      recipient: ANA,
    });

    const command = slashCommand(slack.ids, {
      channel: 'C0IDS',
      user: ANA,
      text: 'run print(1)',
      responseUrl: slack.responseUrl(),
    });
    await slack.socket.deliver('slash_commands', command);
    const slash = await conversation.turnFor((m) => m.messageId === command.trigger_id);
    // Seconds.micros like a ts, and after the message Slack stamped before it.
    expect(slash.message.order).toMatch(/^\d+\.\d{6}$/);
    const asNumber = (order: string | undefined) => BigInt((order ?? '').replace('.', ''));
    expect(asNumber(slash.message.order) > asNumber(ts)).toBe(true);
    expect(stored(slash.thread)).toMatchObject({
      channel: 'C0IDS',
      sessionKey: `slack:${slack.ids.teamId}:C0IDS:channel`,
      ack: 'none',
      heading: '<@U0ANA> used `/sandbot run print(1)`',
    });
    expect(stored(slash.thread).threadTs).toBeUndefined();
    // Stored in Redis or SQLite as plain text: no credential may be in either.
    const kept = JSON.stringify([message, thread.address, slash.message, slash.thread.address]);
    for (const secret of [slack.botToken, slack.appToken, command.response_url]) {
      expect(kept).not.toContain(secret);
    }
  });

  it("answers from another process in the message's thread and clears its 👀", async () => {
    const { ts, turn } = await mention('C0MOVED', 'what is 6 * 7?');
    await slack.waitFor(
      () => slack.workspace.reactions.find((r) => r.ts === ts && !r.removed),
      'the 👀 reaction on the message',
    );

    const rebuilt = second.replyFor(stored(turn.thread), {});
    expect(rebuilt).toBeDefined();
    await rebuilt?.reply(textReply('It is **42**.'));

    const answers = callsOf('chat.postMessage').filter((c) => c.args.channel === 'C0MOVED');
    expect(answers.map((c) => [c.args.thread_ts, c.args.text, c.token])).toEqual([
      [ts, 'It is *42*.', slack.botToken],
    ]);
    const removed = callsOf('reactions.remove').filter((c) => c.args.timestamp === ts);
    expect(removed.map((c) => [c.args.channel, c.args.name, c.ok])).toEqual([
      ['C0MOVED', 'eyes', true],
    ]);
    expect(slack.workspace.reactions.filter((r) => r.ts === ts)).toEqual([
      { channel: 'C0MOVED', ts, name: 'eyes', removed: true },
    ]);
  });

  it("takes over a dead runner's status message and leaves none saying it runs", async () => {
    const channel = 'C0RESUME';
    const { ts, turn } = await mention(channel, 'run a long loop');
    const posted = new Promise<string>((resolve) => turn.thread.onProgressMessage?.(resolve));
    turn.thread.progress({ type: 'running', code: 'for i in range(10**9): pass' });
    const statusTs = await posted;
    const status = slack.workspace.messages.find((m) => m.ts === statusTs);
    expect(status).toMatchObject({ channel, threadTs: ts, deleted: false });
    expect(status?.text).toContain('Running code');
    // The first process dies here: its reply is never called again.

    const rebuilt = second.replyFor(stored(turn.thread), { progressMessageId: statusTs });
    const resumed = await slack.waitFor(
      () => callsOf('chat.update').find((c) => c.args.ts === statusTs && c.ok),
      'the status message edited by the second process',
    );
    expect(resumed.args).toMatchObject({ channel });
    expect(resumed.args.text).toMatch(/Resumed after an interruption/);
    expect(JSON.stringify(resumed.args.blocks)).toContain(turn.message.sessionKey); // Stop

    rebuilt?.progress({ type: 'answering', text: '' });
    await rebuilt?.reply(textReply('Done looping.'));
    expect(callsOf('chat.delete').filter((c) => c.args.ts === statusTs && c.ok)).toHaveLength(1);
    const live = slack.workspace.messages.filter(
      (m) => m.channel === channel && m.threadTs === ts && !m.deleted,
    );
    expect(live.map((m) => m.text)).toEqual(['Done looping.']);
  });

  it('fetches an attachment again by its reference, with its own bot token', async () => {
    const bytes = Buffer.from('x,y\n1,2\n3,4\n');
    const file = slack.addFile('points.csv', bytes, 'text/csv');
    const { turn } = await mention('C0FILES', 'fit a line', { files: [file] });
    const ref = turn.message.attachments[0]?.ref ?? '';

    expect(await second.fetchAttachment(ref)).toEqual(bytes);
    expect(callsOf('files.info').map((c) => [c.args.file, c.token])).toEqual([
      [ref, slack.botToken],
    ]);
    expect(slack.workspace.hostedFiles.get(ref)?.downloads).toBe(1);
    await expect(second.fetchAttachment('F0GONE00')).rejects.toThrow(/file_not_found/);
  });
});
