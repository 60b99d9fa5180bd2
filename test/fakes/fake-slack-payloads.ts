/**
 * Request payloads shaped like Slack's own, for tests to deliver over Socket Mode or signed
 * HTTP: the Events API's `event_callback` envelope, slash commands and block_actions.
 */
import { randomUUID } from 'node:crypto';
import type { FakeSlackIds, HostedFile } from './fake-slack-workspace.ts';

export interface MessageFields {
  readonly channel: string;
  readonly user: string;
  readonly text: string;
  readonly ts: string;
  readonly threadTs?: string;
  /** `channel`, `group`, `im`, `mpim` (message events only). */
  readonly channelType?: string;
  readonly files?: readonly Record<string, unknown>[];
  readonly botId?: string;
  readonly subtype?: string;
}

/** An `app_mention` event (Slack sends one for a message that mentions the app). */
export function appMention(ids: FakeSlackIds, m: MessageFields): Record<string, unknown> {
  return {
    type: 'app_mention',
    user: m.user,
    text: m.text,
    ts: m.ts,
    channel: m.channel,
    event_ts: m.ts,
    team: ids.teamId,
    ...(m.threadTs === undefined ? {} : { thread_ts: m.threadTs }),
    ...(m.files === undefined ? {} : { files: m.files, upload: false }),
  };
}

/** A `message` event, as message.channels / message.im and friends deliver it. */
export function messageEvent(ids: FakeSlackIds, m: MessageFields): Record<string, unknown> {
  const subtype = m.subtype ?? (m.files === undefined ? undefined : 'file_share');
  return {
    type: 'message',
    ...(subtype === undefined ? {} : { subtype }),
    user: m.user,
    text: m.text,
    ts: m.ts,
    channel: m.channel,
    channel_type: m.channelType ?? 'channel',
    event_ts: m.ts,
    team: ids.teamId,
    user_profile: { display_name: 'ana', real_name: 'Ana Analyst', name: 'ana' },
    ...(m.threadTs === undefined ? {} : { thread_ts: m.threadTs }),
    ...(m.files === undefined ? {} : { files: m.files, upload: false }),
    ...(m.botId === undefined ? {} : { bot_id: m.botId }),
  };
}

export function assistantThreadStarted(
  ids: FakeSlackIds,
  a: { readonly user: string; readonly channel: string; readonly threadTs: string },
): Record<string, unknown> {
  return {
    type: 'assistant_thread_started',
    assistant_thread: {
      user_id: a.user,
      context: {},
      channel_id: a.channel,
      thread_ts: a.threadTs,
    },
    event_ts: a.threadTs,
    team: ids.teamId,
  };
}

/** The Events API envelope around one event (the body of a Socket Mode `events_api`). */
export function eventCallback(
  ids: FakeSlackIds,
  event: Record<string, unknown>,
  eventId = `Ev${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`,
): Record<string, unknown> {
  return {
    token: 'verification-token-unused',
    team_id: ids.teamId,
    api_app_id: ids.appId,
    event,
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: ids.teamId,
        user_id: ids.botUserId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${randomUUID()}`,
  };
}

/** A slash command as Slack sends it (form fields; Socket Mode carries them as an object). */
export function slashCommand(
  ids: FakeSlackIds,
  c: {
    readonly channel: string;
    readonly user: string;
    readonly text: string;
    readonly command?: string;
    readonly responseUrl: string;
  },
): Record<string, string> {
  return {
    token: 'verification-token-unused',
    team_id: ids.teamId,
    team_domain: 'fake-workspace',
    channel_id: c.channel,
    channel_name: 'analysis',
    user_id: c.user,
    user_name: 'ana',
    command: c.command ?? '/sandbot',
    text: c.text,
    api_app_id: ids.appId,
    is_enterprise_install: 'false',
    response_url: c.responseUrl,
    trigger_id: `${Date.now()}.${randomUUID().slice(0, 8)}`,
  };
}

/** A button press (block_actions) on a message the bot posted. */
export function buttonPress(
  ids: FakeSlackIds,
  b: {
    readonly user: string;
    readonly channel: string;
    readonly message: {
      readonly ts: string;
      readonly threadTs: string | undefined;
      readonly text: string;
      readonly blocks: unknown;
    };
    readonly actionId: string;
    readonly value: string;
    readonly responseUrl: string;
  },
): Record<string, unknown> {
  const thread = b.message.threadTs === undefined ? {} : { thread_ts: b.message.threadTs };
  return {
    type: 'block_actions',
    user: { id: b.user, username: 'ana', name: 'ana', team_id: ids.teamId },
    api_app_id: ids.appId,
    token: 'verification-token-unused',
    container: {
      type: 'message',
      message_ts: b.message.ts,
      channel_id: b.channel,
      is_ephemeral: false,
      ...thread,
    },
    trigger_id: `${Date.now()}.${randomUUID().slice(0, 8)}`,
    team: { id: ids.teamId, domain: 'fake-workspace' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: b.channel, name: 'analysis' },
    message: {
      type: 'message',
      user: ids.botUserId,
      bot_id: ids.botId,
      text: b.message.text,
      ts: b.message.ts,
      blocks: b.message.blocks,
      ...thread,
    },
    state: { values: {} },
    response_url: b.responseUrl,
    actions: [
      {
        action_id: b.actionId,
        block_id: 'status-actions',
        value: b.value,
        type: 'button',
        text: { type: 'plain_text', text: 'Stop', emoji: true },
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
}

/** A file object as message events and files.info carry it; `base` is its download prefix. */
export function fileObject(file: HostedFile, base: string): Record<string, unknown> {
  return {
    id: file.id,
    created: file.createdS,
    timestamp: file.createdS,
    name: file.name,
    title: file.name,
    mimetype: file.mimetype,
    filetype: file.name.split('.').pop() ?? 'binary',
    user: 'U0FILEOWNER',
    size: file.content.length,
    mode: 'hosted',
    is_external: false,
    is_public: true,
    url_private: `${base}/${encodeURIComponent(file.name)}`,
    url_private_download: `${base}/download/${encodeURIComponent(file.name)}`,
  };
}
