import type { types, webApi } from '@slack/bolt';
import type { AnswerKey, ReplyAttachment } from '../../src/core/reply.ts';
import type { Logger } from '../../src/logging/logger.ts';
import type { RenderedMessage } from '../../src/render/render-reply.ts';
import { answerMetadata, type PartName } from './answer-parts.ts';
import { escapeMrkdwn, markdownToMrkdwn } from './mrkdwn.ts';
import { slackErrorCode } from './slack-errors.ts';
import { tableBlock } from './table-blocks.ts';
import { safeMarkdown } from './stream-markdown.ts';
import { placeArgs, type SlackPlace } from './slack-place.ts';

/**
 * Posts a rendered answer in order: each message's text as mrkdwn, then its attachments
 * uploaded into the same place with the external-upload flow (files.uploadV2). A failed upload
 * does not end the answer: a message names the files that did not make it and why.
 */
export async function postRendered(
  client: webApi.WebClient,
  place: SlackPlace,
  messages: readonly RenderedMessage[],
  logger: Logger,
  /** mrkdwn put before the first message (who asked, for slash command answers). */
  heading?: string,
  /** A durable turn's answer: its messages carry the key, and parts already posted are not. */
  once?: { readonly key: AnswerKey; readonly posted: ReadonlySet<PartName> },
): Promise<void> {
  let pendingHeading = heading;
  for (const [k, message] of messages.entries()) {
    const body = message.text === '' ? '' : markdownToMrkdwn(message.text);
    const headingHere = pendingHeading;
    pendingHeading = undefined;
    const text = [headingHere, body].filter((part) => part !== undefined && part !== '');
    if (text.length > 0 && once?.posted.has(`text:${k}`) !== true) {
      const mrkdwn = text.join('\n');
      await client.chat.postMessage({
        ...placeArgs(place),
        // The notification text (and what clients without blocks show); the blocks below
        // are what people see: Markdown as Slack renders it, or a table under its caption.
        text: mrkdwn,
        blocks:
          message.table === undefined
            ? markdownBlocks(headingHere, message.text)
            : [
                { type: 'section', text: { type: 'mrkdwn', text: mrkdwn } },
                tableBlock(message.table),
              ],
        // A plot's link or a URL in the output should not grow a preview card.
        unfurl_links: false,
        unfurl_media: false,
        ...(once === undefined ? {} : { metadata: answerMetadata(once.key, k) }),
      });
    }
    if (message.attachments.length > 0 && once?.posted.has(`files:${k}`) !== true) {
      await upload(client, place, message.attachments, logger);
    }
  }
}

/**
 * A text message as Slack's `markdown` block (model Markdown rendered by Slack itself, made
 * safe as streamed text is: no mention can form, only web and mail links), after the
 * heading's own mrkdwn section (which names the asker on purpose).
 */
function markdownBlocks(heading: string | undefined, markdown: string): types.KnownBlock[] {
  const blocks: types.KnownBlock[] = [];
  if (heading !== undefined)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: heading } });
  if (markdown.trim() !== '') blocks.push({ type: 'markdown', text: safeMarkdown(markdown) });
  return blocks;
}

async function upload(
  client: webApi.WebClient,
  place: SlackPlace,
  attachments: readonly ReplyAttachment[],
  logger: Logger,
): Promise<void> {
  try {
    await client.files.uploadV2({
      channel_id: place.channel,
      ...(place.threadTs === undefined ? {} : { thread_ts: place.threadTs }),
      file_uploads: attachments.map((a) => ({ file: a.content, filename: a.name, title: a.name })),
    });
  } catch (error) {
    const code = slackErrorCode(error);
    logger.warn({ code, files: attachments.map((a) => a.name) }, 'file upload failed');
    const names = attachments.map((a) => `\`${escapeMrkdwn(a.name)}\``).join(', ');
    // The external-upload flow shares all files of one call together, or none of them.
    await client.chat.postMessage({
      ...placeArgs(place),
      text: `⚠️ I could not upload ${names} to Slack (${code}).`,
    });
  }
}
