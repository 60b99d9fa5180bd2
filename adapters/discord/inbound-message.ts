import { cleanContent, type Attachment, type Message } from 'discord.js';
import type { InboundAttachment, InboundMessage } from '../../src/core/inbound-message.ts';

/** Attachments come from Discord's CDN; a stalled download must not hold a turn forever. */
const DOWNLOAD_TIMEOUT_MS = 120_000;

/**
 * A Discord message as the core takes it: the bot's mention removed, other mentions made
 * readable (`@ana`, `#general`), attachments as lazy downloads, so the core can refuse
 * files over its limits before a byte is fetched. A bare mention asks for help.
 */
export function inboundMessage(
  message: Message,
  botId: string,
): Omit<InboundMessage, 'sessionKey'> {
  const withoutBot = message.content.replace(new RegExp(`<@!?${botId}>`, 'g'), ' ');
  const text = cleanContent(withoutBot, message.channel).trim();
  const attachments = message.attachments.map(inboundAttachment);
  return {
    author: {
      id: message.author.id,
      name: message.member?.displayName ?? message.author.displayName,
    },
    text: text === '' && attachments.length === 0 ? 'help' : text,
    attachments,
  };
}

function inboundAttachment(attachment: Attachment): InboundAttachment {
  return {
    name: attachment.name,
    sizeBytes: attachment.size,
    fetch: () => download(attachment.url),
  };
}

async function download(url: string): Promise<Buffer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  if (!response.ok)
    throw new Error(`downloading a Discord attachment failed: HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/** A thread name from the request: its first line, at most Discord's 100 characters. */
export function threadName(message: Omit<InboundMessage, 'sessionKey'>): string {
  const firstLine = message.text.split('\n').find((line) => line.trim() !== '') ?? '';
  const name = firstLine.replace(/\s+/g, ' ').trim() || message.attachments[0]?.name || 'sandbot';
  return name.length <= 100 ? name : `${name.slice(0, 99)}…`;
}
