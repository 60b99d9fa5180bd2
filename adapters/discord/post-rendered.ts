import { AttachmentBuilder } from 'discord.js';
import type { RenderedMessage } from '../../src/render/render-reply.ts';
import { refusalOf, type Refusal } from './discord-errors.ts';

/** What one Discord message of an answer carries. */
export interface OutgoingMessage {
  readonly content?: string;
  readonly files?: AttachmentBuilder[];
}

/** Sends one message wherever the answer goes (a channel, an interaction's reply). */
export type PostMessage = (message: OutgoingMessage) => Promise<unknown>;

const REFUSAL_TEXT: Readonly<Record<Refusal, (files: string) => string>> = {
  'missing-permissions': (files) =>
    `I am not allowed to attach files in this channel (the Attach Files permission is missing), so these were not sent: ${files}. Once an admin grants it, \`files NAME\` sends one here.`,
  'too-large': (files) => `Discord refused these files as too large for this server: ${files}.`,
};

/**
 * Posts rendered messages in order. When Discord refuses attachments (a channel without the
 * Attach Files permission, or files over its limit) the text still goes out, and one closing
 * message says which files could not be sent and why, instead of the answer vanishing.
 */
export async function postRendered(
  messages: readonly RenderedMessage[],
  post: PostMessage,
): Promise<void> {
  let refusal: Refusal | undefined;
  const unsent: string[] = [];
  for (const message of messages) {
    const names = message.attachments.map((a) => a.name);
    if (names.length > 0 && refusal === undefined) {
      try {
        await post({
          ...(message.text === '' ? {} : { content: message.text }),
          files: message.attachments.map((a) => new AttachmentBuilder(a.content, { name: a.name })),
        });
        continue;
      } catch (error) {
        refusal = refusalOf(error);
        if (refusal === undefined) throw error;
      }
    }
    unsent.push(...names);
    if (message.text !== '') await post({ content: message.text });
  }
  if (refusal !== undefined) await post({ content: refusalNotice(refusal, unsent) });
}

function refusalNotice(refusal: Refusal, names: readonly string[]): string {
  const text = `⚠️ ${REFUSAL_TEXT[refusal](names.map((n) => `\`${n}\``).join(', '))}`;
  return text.length <= 2000 ? text : `${text.slice(0, 1997)}…`;
}
