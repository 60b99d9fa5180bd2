import { cleanContent, type Attachment, type Message } from 'discord.js';
import type { InboundAttachment, InboundMessage } from '../../src/core/inbound-message.ts';
import { downloadAttachment } from './attachment-download.ts';
import { memberGroups } from './member-groups.ts';

/**
 * A Discord message as the core takes it: the bot's mention removed, other mentions made
 * readable (`@ana`, `#general`), attachments as lazy downloads, so the core can refuse
 * files over its limits before a byte is fetched. A bare mention asks for help. The message
 * id names the turn, and as a snowflake it also orders the thread's turns; each attachment's
 * CDN URL is its ref, which any bot process can download again (`fetchAttachment`).
 */
export function inboundMessage(
  message: Message,
  botId: string,
  maxAttachmentBytes: number,
): Omit<InboundMessage, 'sessionKey'> {
  const text = readableText(message, botId);
  const attachments = inboundAttachments(message, maxAttachmentBytes);
  return {
    author: {
      id: message.author.id,
      name: authorName(message),
      groups: memberGroups(message.member),
    },
    text: text === '' && attachments.length === 0 ? 'help' : text,
    attachments,
    messageId: message.id,
    order: message.id,
  };
}

/** The message's text with the bot's mention removed and other mentions made readable. */
export function readableText(message: Message, botId: string): string {
  const withoutBot = message.content.replace(new RegExp(`<@!?${botId}>`, 'g'), ' ');
  return cleanContent(withoutBot, message.channel).trim();
}

/** The name people see for the author: their server nickname, else their display name. */
export function authorName(message: Message): string {
  return message.member?.displayName ?? message.author.displayName;
}

export function inboundAttachments(message: Message, maxBytes: number): InboundAttachment[] {
  return message.attachments.map((a) => inboundAttachment(a, maxBytes));
}

/** A file as the core takes it: fetched only once the core has checked its size. */
export function inboundAttachment(attachment: Attachment, maxBytes: number): InboundAttachment {
  return {
    name: attachment.name,
    sizeBytes: attachment.size,
    fetch: () => downloadAttachment(attachment.url, maxBytes),
    ref: attachment.url,
  };
}

/** A thread name from the request: its first line, at most Discord's 100 characters. */
export function threadName(message: Omit<InboundMessage, 'sessionKey'>): string {
  const firstLine = message.text.split('\n').find((line) => line.trim() !== '') ?? '';
  const name = firstLine.replace(/\s+/g, ' ').trim() || message.attachments[0]?.name || 'sandbot';
  return name.length <= 100 ? name : `${name.slice(0, 99)}…`;
}
