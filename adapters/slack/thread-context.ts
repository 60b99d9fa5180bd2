import type { webApi } from '@slack/bolt';
import type { EarlierMessage } from '../../src/conversation/thread-context.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { plainTextFromSlack } from './inbound-text.ts';
import type { BotIdentity } from './message-rules.ts';
import { slackErrorCode } from './slack-errors.ts';
import type { SlackFileDownloader } from './slack-files.ts';
import { readSlackMessage } from './slack-message.ts';
import type { UserNames } from './user-names.ts';

/** conversations.replies pages read at most: the newest messages are at the end. */
const MAX_PAGES = 5;
const PAGE_SIZE = 200;

export interface EarlierInThread {
  readonly client: webApi.WebClient;
  readonly channel: string;
  readonly threadTs: string;
  /** The mention's ts: only messages before it are read. */
  readonly beforeTs: string;
  readonly bot: BotIdentity;
  readonly names: UserNames;
  readonly files: SlackFileDownloader;
  readonly logger: Logger;
}

/**
 * The thread's messages before the bot's first mention in it (conversations.replies, oldest
 * first, the thread's parent included), but the bot's own, each with its author's name and
 * files. When Slack will not list them (a missing history scope), the turn goes on without.
 */
export async function earlierInThread(place: EarlierInThread): Promise<EarlierMessage[]> {
  const raw: unknown[] = [];
  try {
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const answer = await place.client.conversations.replies({
        channel: place.channel,
        ts: place.threadTs,
        latest: place.beforeTs,
        inclusive: false,
        limit: PAGE_SIZE,
        ...(cursor === undefined ? {} : { cursor }),
      });
      raw.push(...(answer.messages ?? []));
      cursor = answer.response_metadata?.next_cursor;
      if (answer.has_more !== true || cursor === undefined || cursor === '') break;
    }
  } catch (error) {
    place.logger.warn(
      { code: slackErrorCode(error) },
      'could not read the thread before the mention',
    );
    return [];
  }
  const earlier: EarlierMessage[] = [];
  for (const item of raw) {
    const fields = typeof item === 'object' && item !== null ? item : {};
    const message = readSlackMessage({ channel: place.channel, ...fields });
    // The mention itself (Slack's latest bound is exclusive, but be sure) and anything after.
    if (message === undefined || Number(message.ts) >= Number(place.beforeTs)) continue;
    if (message.botId !== undefined && message.botId === place.bot.botId) continue;
    if (message.user !== undefined && message.user === place.bot.userId) continue;
    const author = message.user ?? message.botId ?? 'unknown';
    const name =
      message.user === undefined
        ? (message.authorName ?? author)
        : await place.names.nameOf(place.client, message.user, message.authorName);
    earlier.push({
      author: name,
      text: plainTextFromSlack(message.text, place.bot.userId),
      attachments: place.files.attachments(message.files),
    });
  }
  return earlier;
}
