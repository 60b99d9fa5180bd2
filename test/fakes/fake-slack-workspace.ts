/**
 * The state behind the fake Slack Web API: the messages the bot posted (edited, deleted),
 * reactions, files hosted for download, and the external-upload flow's pending uploads. Each
 * method answers the way Slack does: HTTP 200 with `{ ok: true, ... }`, or `{ ok: false,
 * error: "<code>" }` for a call Slack would refuse.
 */
import { blocksProblem } from './fake-slack-blocks.ts';
import { FakeSlackStreams } from './fake-slack-streams.ts';
import type { Args } from './fake-slack-body.ts';
import { fileObject } from './fake-slack-payloads.ts';

export interface FakeSlackIds {
  readonly teamId: string;
  readonly appId: string;
  readonly botUserId: string;
  readonly botId: string;
}

export interface FakeMessage {
  readonly channel: string;
  readonly ts: string;
  readonly threadTs: string | undefined;
  text: string;
  blocks: unknown[] | undefined;
  readonly files: readonly { readonly id: string; readonly name: string }[];
  deleted: boolean;
  /** How many chat.update calls changed it. */
  edits: number;
  /** Message metadata it was posted with (`event_type`, `event_payload`). */
  readonly metadata?: Record<string, unknown>;
  /** A person's message (`addUserMessage`); absent: the bot posted it. */
  readonly user?: string;
  /** A person's message's files as Slack lists them (with download URLs). */
  readonly fileObjects?: readonly Record<string, unknown>[];
}

/** A message a person said, for conversations.replies to list. */
export interface UserMessageFields {
  readonly channel: string;
  readonly user: string;
  readonly text: string;
  /** The thread it is in; absent: a top-level message (a thread's parent). */
  readonly threadTs?: string;
  /** From `addFile`/`hostFile`. */
  readonly files?: readonly Record<string, unknown>[];
  /** Default: a fresh ts. */
  readonly ts?: string;
}

export interface FakeReaction {
  readonly channel: string;
  readonly ts: string;
  readonly name: string;
  removed: boolean;
}

export interface HostedFile {
  readonly id: string;
  readonly name: string;
  readonly content: Buffer;
  readonly mimetype: string;
  /** GETs of its download URL that carried the bot token. */
  downloads: number;
  /** When it was shared, epoch seconds. */
  readonly createdS: number;
}

export interface UploadSlot {
  readonly id: string;
  readonly filename: string;
  readonly length: number;
  bytes: Buffer | undefined;
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers?: Record<string, string>;
}

const ok = (fields: Record<string, unknown> = {}): ApiAnswer => ({
  status: 200,
  body: { ok: true, ...fields },
});
export const refuse = (error: string): ApiAnswer => ({ status: 200, body: { ok: false, error } });

export class FakeWorkspace {
  readonly messages: FakeMessage[] = [];
  readonly reactions: FakeReaction[] = [];
  readonly hostedFiles = new Map<string, HostedFile>();
  readonly uploads = new Map<string, UploadSlot>();
  readonly ephemerals: { channel: string; user: string; text: string }[] = [];
  /** People users.info knows: id to display name. */
  readonly users = new Map<string, string>();
  /** User groups usergroups.users.list knows: group id to member ids. */
  readonly userGroups = new Map<string, string[]>();
  /** The streaming message API (off unless a test turns it on: see fake-slack-streams.ts). */
  readonly streams = new FakeSlackStreams((fields) => {
    const message = { ...fields, ts: this.nextTs() };
    this.messages.push(message);
    return message;
  });
  private readonly ids: FakeSlackIds;
  private readonly baseUrl: () => string;
  private tsCounter = 0;
  private idCounter = 0;
  private readonly epochS = Math.floor(Date.now() / 1000);

  constructor(ids: FakeSlackIds, baseUrl: () => string) {
    this.ids = ids;
    this.baseUrl = baseUrl;
  }

  /** A fresh message timestamp, unique and increasing like Slack's. */
  nextTs(): string {
    this.tsCounter += 1;
    return `${this.epochS}.${String(this.tsCounter).padStart(6, '0')}`;
  }

  nextId(prefix: string): string {
    this.idCounter += 1;
    return `${prefix}${String(this.idCounter).padStart(8, '0')}`;
  }

  /** A file in Slack, as it appears in a message event's `files` array. */
  hostFile(name: string, content: Buffer, mimetype: string): Record<string, unknown> {
    const id = this.nextId('F');
    const file = { id, name, content, mimetype, downloads: 0, createdS: this.epochS };
    this.hostedFiles.set(id, file);
    return fileObject(file, `${this.baseUrl()}files-pri/${this.ids.teamId}-${id}`);
  }

  /**
   * A message a person said before (users' messages otherwise arrive only as events), so
   * conversations.replies lists it as Slack would. Returns it; its ts is the thread's ts when
   * it is a thread's parent.
   */
  addUserMessage(fields: UserMessageFields): FakeMessage {
    const files = fields.files ?? [];
    const message: FakeMessage = {
      channel: fields.channel,
      ts: fields.ts ?? this.nextTs(),
      threadTs: fields.threadTs,
      text: fields.text,
      blocks: undefined,
      files: files.map((f) => ({ id: String(f.id), name: String(f.name) })),
      deleted: false,
      edits: 0,
      user: fields.user,
      fileObjects: files,
    };
    this.messages.push(message);
    return message;
  }

  /** files.info: the same file object, for a bot that has only the file's id. */
  private fileInfo(args: Args): ApiAnswer {
    const file = this.hostedFiles.get(str(args.file) ?? '');
    if (file === undefined) return refuse('file_not_found');
    const base = `${this.baseUrl()}files-pri/${this.ids.teamId}-${file.id}`;
    return ok({ file: fileObject(file, base), comments: [], response_metadata: {} });
  }

  call(method: string, args: Args): ApiAnswer {
    switch (method) {
      case 'auth.test':
        return ok({
          url: 'https://fake-workspace.slack.com/',
          team: 'Fake Workspace',
          user: 'sandbot',
          team_id: this.ids.teamId,
          user_id: this.ids.botUserId,
          bot_id: this.ids.botId,
          is_enterprise_install: false,
        });
      case 'usergroups.users.list': {
        // Slack: the group's member ids; an unknown group is `no_such_subteam`.
        const members = this.userGroups.get(str(args.usergroup) ?? '');
        return members === undefined ? refuse('no_such_subteam') : ok({ users: members });
      }
      case 'users.info': {
        const id = str(args.user) ?? '';
        const name = this.users.get(id);
        if (name === undefined) return refuse('user_not_found');
        return ok({
          user: {
            id,
            team_id: this.ids.teamId,
            name: name.toLowerCase(),
            real_name: name,
            is_bot: false,
            profile: { display_name: name, real_name: name },
          },
        });
      }
      case 'chat.postMessage':
        return this.postMessage(args);
      case 'chat.startStream':
      case 'chat.appendStream':
      case 'chat.stopStream':
        return { status: 200, body: this.streams.call(method, args) };
      case 'conversations.replies':
      case 'conversations.history':
        return this.listMessages(method === 'conversations.replies', args);
      case 'chat.update':
        return this.updateMessage(args);
      case 'chat.delete':
        return this.deleteMessage(args);
      case 'chat.postEphemeral': {
        const channel = str(args.channel);
        const user = str(args.user);
        if (channel === undefined || user === undefined) return refuse('invalid_arguments');
        this.ephemerals.push({ channel, user, text: str(args.text) ?? '' });
        return ok({ message_ts: this.nextTs() });
      }
      case 'reactions.add':
      case 'reactions.remove':
        return this.react(method === 'reactions.add', args);
      case 'assistant.threads.setStatus':
      case 'assistant.threads.setTitle':
        if (str(args.channel_id) === undefined || str(args.thread_ts) === undefined) {
          return refuse('invalid_arguments');
        }
        return ok();
      case 'assistant.threads.setSuggestedPrompts':
        // thread_ts is optional: without it (the agent view's way) the prompts go with the
        // channel's latest message.
        if (str(args.channel_id) === undefined || !Array.isArray(args.prompts)) {
          return refuse('invalid_arguments');
        }
        return ok();
      case 'files.info':
        return this.fileInfo(args);
      case 'files.getUploadURLExternal':
        return this.uploadUrl(args);
      case 'files.completeUploadExternal':
        return this.completeUpload(args);
      default:
        return refuse('unknown_method');
    }
  }

  private postMessage(args: Args): ApiAnswer {
    const channel = str(args.channel);
    if (channel === undefined) return refuse('channel_not_found');
    const text = str(args.text) ?? '';
    const blocks = Array.isArray(args.blocks) ? (args.blocks as unknown[]) : undefined;
    if (text === '' && blocks === undefined) return refuse('no_text');
    if (text.length > 40_000) return refuse('msg_too_long');
    const blockProblem = blocks === undefined ? undefined : blocksProblem(blocks);
    if (blockProblem !== undefined) return refuse(blockProblem);
    const metadata = args.metadata;
    if (metadata !== undefined && !validMetadata(metadata))
      return refuse('invalid_metadata_format');
    const message: FakeMessage = {
      channel,
      ts: this.nextTs(),
      threadTs: str(args.thread_ts),
      text,
      blocks,
      files: [],
      deleted: false,
      edits: 0,
      ...(metadata === undefined ? {} : { metadata }),
    };
    this.messages.push(message);
    return ok({ channel, ts: message.ts, message: this.shape(message) });
  }

  /**
   * conversations.replies (a thread's replies, oldest first) and conversations.history (the
   * channel's top level, newest first), after `oldest` and before `latest` (exclusive unless `inclusive`),
   * paged by `limit` and `cursor`. The bot's messages are here, and people's messages only
   * when a test added them (`addUserMessage`); a person's thread parent is listed first. Metadata is included
   * only with `include_all_metadata`, as in Slack.
   */
  private listMessages(replies: boolean, args: Args): ApiAnswer {
    const channel = str(args.channel);
    if (channel === undefined) return refuse('channel_not_found');
    const threadTs = str(args.ts);
    if (replies && threadTs === undefined) return refuse('thread_not_found');
    const oldest = str(args.oldest) ?? '0';
    const latest = str(args.latest);
    const inclusive = args.inclusive === true || args.inclusive === 'true';
    const matching = this.messages.filter(
      (m) =>
        !m.deleted &&
        m.channel === channel &&
        m.ts > oldest &&
        (latest === undefined || m.ts < latest || (inclusive && m.ts === latest)) &&
        (replies
          ? m.threadTs === threadTs || (m.user !== undefined && m.ts === threadTs)
          : m.threadTs === undefined),
    );
    const ordered = replies ? matching : matching.reverse();
    const start = Number(str(args.cursor) ?? '0');
    const limit = Math.min(Number(str(args.limit) ?? '100'), 1000);
    const page = ordered.slice(start, start + limit);
    const more = start + limit < ordered.length;
    const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true';
    return ok({
      messages: page.map((m) => ({
        ...this.shape(m),
        ...(m.fileObjects !== undefined && m.fileObjects.length > 0
          ? { files: m.fileObjects }
          : m.files.length === 0
            ? {}
            : { files: m.files.map((f) => ({ id: f.id, name: f.name })) }),
        ...(withMetadata && m.metadata !== undefined ? { metadata: m.metadata } : {}),
      })),
      has_more: more,
      response_metadata: { next_cursor: more ? String(start + limit) : '' },
    });
  }

  private updateMessage(args: Args): ApiAnswer {
    const message = this.find(args);
    if (message === undefined) return refuse('message_not_found');
    if (typeof args.text === 'string') message.text = args.text;
    if (Array.isArray(args.blocks)) {
      const blockProblem = blocksProblem(args.blocks as unknown[]);
      if (blockProblem !== undefined) return refuse(blockProblem);
      message.blocks = args.blocks as unknown[];
    }
    message.edits += 1;
    return ok({ channel: message.channel, ts: message.ts, text: message.text });
  }

  private deleteMessage(args: Args): ApiAnswer {
    const message = this.find(args);
    if (message === undefined) return refuse('message_not_found');
    message.deleted = true;
    return ok({ channel: message.channel, ts: message.ts });
  }

  private find(args: Args): FakeMessage | undefined {
    return this.messages.find(
      (m) => !m.deleted && m.channel === str(args.channel) && m.ts === str(args.ts),
    );
  }

  private react(add: boolean, args: Args): ApiAnswer {
    const channel = str(args.channel);
    const ts = str(args.timestamp);
    const name = str(args.name);
    if (channel === undefined || ts === undefined || name === undefined) {
      return refuse('invalid_arguments');
    }
    const live = this.reactions.find(
      (r) => !r.removed && r.channel === channel && r.ts === ts && r.name === name,
    );
    if (add) {
      if (live !== undefined) return refuse('already_reacted');
      this.reactions.push({ channel, ts, name, removed: false });
    } else {
      if (live === undefined) return refuse('no_reaction');
      live.removed = true;
    }
    return ok();
  }

  private uploadUrl(args: Args): ApiAnswer {
    const filename = str(args.filename);
    const length = Number(args.length);
    if (filename === undefined || !Number.isInteger(length) || length < 0) {
      return refuse('invalid_arguments');
    }
    const id = this.nextId('F');
    this.uploads.set(id, { id, filename, length, bytes: undefined });
    return ok({ upload_url: `${this.baseUrl()}upload/${id}`, file_id: id });
  }

  private completeUpload(args: Args): ApiAnswer {
    const files = Array.isArray(args.files) ? (args.files as { id?: unknown }[]) : [];
    if (files.length === 0) return refuse('invalid_arguments');
    const slots: UploadSlot[] = [];
    for (const file of files) {
      const slot = this.uploads.get(String(file.id));
      // Slack refuses to complete an upload whose bytes never arrived.
      if (slot?.bytes === undefined) return refuse('file_not_found');
      slots.push(slot);
    }
    const channel = str(args.channel_id);
    if (channel !== undefined) {
      this.messages.push({
        channel,
        ts: this.nextTs(),
        threadTs: str(args.thread_ts),
        text: str(args.initial_comment) ?? '',
        blocks: undefined,
        files: slots.map((s) => ({ id: s.id, name: s.filename })),
        deleted: false,
        edits: 0,
      });
    }
    return ok({
      files: slots.map((s) => ({ id: s.id, name: s.filename, title: s.filename, size: s.length })),
    });
  }

  private shape(message: FakeMessage): Record<string, unknown> {
    const author =
      message.user === undefined
        ? { user: this.ids.botUserId, bot_id: this.ids.botId, app_id: this.ids.appId }
        : { user: message.user };
    return {
      type: 'message',
      ...author,
      text: message.text,
      ts: message.ts,
      ...(message.threadTs === undefined ? {} : { thread_ts: message.threadTs }),
      ...(message.blocks === undefined ? {} : { blocks: message.blocks }),
    };
  }
}

/** Slack's message metadata: an `event_type` string and an `event_payload` object. */
function validMetadata(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const { event_type: type, event_payload: payload } = value as Record<string, unknown>;
  return typeof type === 'string' && type !== '' && typeof payload === 'object' && payload !== null;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
