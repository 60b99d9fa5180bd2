/**
 * The fields of a Slack message event (`message`, `app_mention`, assistant thread messages)
 * that the adapter reads, checked at runtime: Bolt types message events as a wide union, and
 * an event shape Slack adds later must be skipped, not crash a handler.
 */
export interface SlackFile {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  /** Present unless the file is hidden (free-plan limit) or deleted. */
  readonly downloadUrl: string | undefined;
}

export interface SlackMessage {
  readonly channel: string;
  /** `channel`, `group`, `im`, `mpim`; absent on app_mention. */
  readonly channelType: string | undefined;
  readonly user: string | undefined;
  readonly botId: string | undefined;
  readonly subtype: string | undefined;
  /** Raw Slack markup; see inbound-text.ts. */
  readonly text: string;
  readonly ts: string;
  readonly threadTs: string | undefined;
  readonly files: readonly SlackFile[];
  /** The name to show the model, when the event carries one (no users:read scope needed). */
  readonly authorName: string | undefined;
}

type Fields = Readonly<Record<string, unknown>>;

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function readSlackMessage(event: unknown): SlackMessage | undefined {
  if (!isFields(event)) return undefined;
  const channel = text(event.channel);
  const ts = text(event.ts);
  if (channel === undefined || ts === undefined) return undefined;
  const profile = isFields(event.user_profile) ? event.user_profile : {};
  return {
    channel,
    channelType: text(event.channel_type),
    user: text(event.user),
    botId: text(event.bot_id),
    subtype: text(event.subtype),
    text: typeof event.text === 'string' ? event.text : '',
    ts,
    threadTs: text(event.thread_ts),
    files: Array.isArray(event.files) ? event.files.flatMap(readSlackFile) : [],
    authorName:
      text(profile.display_name) ??
      text(profile.real_name) ??
      text(profile.name) ??
      text(event.username),
  };
}

/** A file object of a message event or of files.info; [] when it is not one. */
export function readSlackFile(file: unknown): SlackFile[] {
  if (!isFields(file)) return [];
  const id = text(file.id);
  if (id === undefined) return [];
  return [
    {
      id,
      name: text(file.name) ?? text(file.title) ?? id,
      size: typeof file.size === 'number' ? file.size : 0,
      downloadUrl: text(file.url_private_download) ?? text(file.url_private),
    },
  ];
}
