import type { webApi } from '@slack/bolt';
import type { Logger } from '../../src/logging/logger.ts';
import { slackErrorCode } from './slack-errors.ts';

/** Slack shows a thread's title in the agent view's history; a line, not a paragraph. */
const MAX_TITLE_CHARS = 60;

/**
 * Names a new DM thread after its question (assistant.threads.setTitle), so the agent view's
 * list of threads reads like a list of questions. Only a top-level DM message starts such a
 * thread; a workspace that refuses it (no agent features) is simply left untitled.
 */
export function titleDmThread(
  client: webApi.WebClient,
  place: { readonly channel: string; readonly threadTs: string },
  question: string,
  logger: Logger,
): void {
  const line = question.trim().split('\n')[0]?.trim() ?? '';
  if (line === '') return;
  const title = line.length <= MAX_TITLE_CHARS ? line : `${line.slice(0, MAX_TITLE_CHARS - 1)}…`;
  client.assistant.threads
    .setTitle({ channel_id: place.channel, thread_ts: place.threadTs, title })
    .catch((error: unknown) => {
      logger.debug({ code: slackErrorCode(error) }, 'thread title not set');
    });
}
