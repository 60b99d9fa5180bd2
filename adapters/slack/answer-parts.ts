import type { webApi } from '@slack/bolt';
import type { AnswerKey } from '../../src/core/reply.ts';
import type { RenderedMessage } from '../../src/render/render-reply.ts';
import type { SlackPlace } from './slack-place.ts';

/** The metadata event type of a message that is part of a turn's answer. */
export const ANSWER_EVENT_TYPE = 'sandbot_answer';
/** Slack's clock and a bot process's may differ: the lookup reaches back this much further. */
const CLOCK_SKEW_S = 120;
const PAGE_SIZE = 200;
/** An answer is a few messages; a thread busier than this since it began is not searched. */
const MAX_PAGES = 5;

/** Slack's message metadata (docs.slack.dev/messaging/message-metadata). */
export interface AnswerMetadata {
  readonly event_type: string;
  readonly event_payload: { readonly answer: string; readonly part: number };
}

/** What a part of the answer is: the k-th rendered message's text, or its uploads. */
export type PartName = `text:${number}` | `files:${number}`;

/** The metadata the k-th text message of the answer named by `key` carries. */
export function answerMetadata(key: AnswerKey, part: number): AnswerMetadata {
  return { event_type: ANSWER_EVENT_TYPE, event_payload: { answer: key.id, part } };
}

interface SeenMessage {
  readonly ts: string;
  readonly answerPart: number | undefined;
  readonly fileNames: readonly string[];
}

/**
 * The parts of `messages` an earlier runner already posted. A text message is found by its
 * metadata. An upload carries none (files.completeUploadExternal takes no metadata), so it
 * counts as posted when a message with exactly its file names follows the text message it
 * came after (or, for a message without text, the last part found before it).
 */
export async function findPostedParts(
  client: webApi.WebClient,
  place: SlackPlace,
  key: AnswerKey,
  messages: readonly RenderedMessage[],
): Promise<Set<PartName>> {
  const posted = new Set<PartName>();
  if (key.earlierAttemptAt === undefined) return posted;
  const oldest = (key.earlierAttemptAt / 1000 - CLOCK_SKEW_S).toFixed(6);
  const seen = await messagesSince(client, place, oldest, key.id);
  let after = oldest;
  messages.forEach((message, k) => {
    if (message.text !== '') {
      const found = seen.find((m) => m.answerPart === k);
      if (found === undefined) return;
      posted.add(`text:${k}`);
      after = found.ts;
    }
    if (message.attachments.length === 0) return;
    const names = message.attachments.map((a) => a.name).sort();
    const upload = seen.find((m) => m.ts > after && sameNames(m.fileNames, names));
    if (upload === undefined) return;
    posted.add(`files:${k}`);
    after = upload.ts;
  });
  return posted;
}

/** The place's messages since `oldest` (a thread's replies, or the channel's top level). */
async function messagesSince(
  client: webApi.WebClient,
  place: SlackPlace,
  oldest: string,
  answerId: string,
): Promise<SeenMessage[]> {
  const seen: SeenMessage[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const args = {
      channel: place.channel,
      oldest,
      limit: PAGE_SIZE,
      include_all_metadata: true,
      ...(cursor === undefined ? {} : { cursor }),
    };
    const result =
      place.threadTs === undefined
        ? await client.conversations.history(args)
        : await client.conversations.replies({ ...args, ts: place.threadTs });
    for (const message of result.messages ?? []) seen.push(seenMessage(message, answerId));
    cursor = result.response_metadata?.next_cursor;
    if (cursor === undefined || cursor === '') break;
  }
  // Slack's ts strings of one era have the same length: string order is time order.
  return seen.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
}

interface ListedMessage {
  readonly ts?: string;
  readonly files?: readonly { readonly name?: string }[];
  readonly metadata?: { readonly event_type?: string; readonly event_payload?: unknown };
}

function seenMessage(message: ListedMessage, answerId: string): SeenMessage {
  const payload = (message.metadata?.event_payload ?? {}) as Partial<
    AnswerMetadata['event_payload']
  >;
  const ours =
    message.metadata?.event_type === ANSWER_EVENT_TYPE &&
    payload.answer === answerId &&
    typeof payload.part === 'number';
  return {
    ts: message.ts ?? '',
    answerPart: ours ? payload.part : undefined,
    fileNames: (message.files ?? []).map((f) => f.name ?? '').sort(),
  };
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}
