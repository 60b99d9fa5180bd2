import type { InboundAttachment } from '../core/inbound-message.ts';

/** A message said in a thread before the bot was first mentioned there. */
export interface EarlierMessage {
  /** The author's display name, shown to the model in brackets. */
  readonly author: string;
  readonly text: string;
  readonly attachments: readonly InboundAttachment[];
}

export interface ThreadContextLimits {
  /** The newest this many earlier messages are kept. */
  readonly maxMessages: number;
  /** Characters of the labelled lines together; older messages past it are left out. */
  readonly maxChars: number;
}

/**
 * Enough to follow a discussion the bot joins late, small next to the model's context window
 * (a long thread is summarised by the newest messages, which a mention usually follows up on).
 */
export const THREAD_CONTEXT_LIMITS: ThreadContextLimits = { maxMessages: 20, maxChars: 8000 };

/** The heading of earlier messages of the thread. */
export const EARLIER_HEADING = 'Earlier in this thread:';
/** The heading of the one message a reply is to. */
export const REPLIED_TO_HEADING = 'In reply to:';

/**
 * The newest earlier messages (oldest first) within the limits: a message too long for the
 * whole budget is cut to it with an ellipsis, and once one does not fit, it and everything
 * older is left out (with their files), so the context is a contiguous tail of the thread.
 */
export function boundEarlierMessages(
  messages: readonly EarlierMessage[],
  limits: ThreadContextLimits = THREAD_CONTEXT_LIMITS,
): EarlierMessage[] {
  const kept: EarlierMessage[] = [];
  let chars = 0;
  for (let i = messages.length - 1; i >= 0 && kept.length < limits.maxMessages; i -= 1) {
    const message = messages[i];
    if (message === undefined) continue;
    const budget = limits.maxChars - chars - labelOf(message.author).length - 1;
    if (budget <= 0) break;
    const text = shown(message);
    if (text.length > budget) {
      // Only the newest message may be cut: an older one cut short reads as if it ended there.
      if (kept.length > 0) break;
      kept.push({ ...message, text: `${text.slice(0, Math.max(0, budget - 1))}…` });
      break;
    }
    kept.push({ ...message, text });
    chars += lineOf(message.author, text).length + 1;
  }
  return kept.reverse();
}

/**
 * The first turn's text with the earlier messages quoted before it, labelled by author, as if
 * they had been said to the bot. Without earlier messages the text is unchanged.
 */
export function withThreadContext(
  earlier: readonly EarlierMessage[],
  text: string,
  heading = EARLIER_HEADING,
): string {
  if (earlier.length === 0) return text;
  const lines = earlier.map((m) => lineOf(m.author, m.text));
  return `${heading}\n${lines.join('\n')}\n\n${text}`;
}

/** The message's own files, then the earlier messages', each file once (by ref, else name). */
export function withEarlierFiles(
  earlier: readonly EarlierMessage[],
  own: readonly InboundAttachment[],
): InboundAttachment[] {
  const seen = new Set<string>();
  const all: InboundAttachment[] = [];
  for (const file of [...own, ...earlier.flatMap((m) => m.attachments)]) {
    const key = file.ref ?? `name:${file.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    all.push(file);
  }
  return all;
}

function labelOf(author: string): string {
  return `[${author}] `;
}

function lineOf(author: string, text: string): string {
  return `${labelOf(author)}${text}`;
}

/**
 * The message as one labelled entry: its later lines indented, so they do not read as another
 * author's line; a message of files only says which files.
 */
function shown(message: EarlierMessage): string {
  const text = message.text.trim();
  if (text === '') {
    const names = message.attachments.map((a) => a.name).join(', ');
    return names === '' ? '(no text)' : `(shared ${names})`;
  }
  return text.replace(/\n/g, '\n  ');
}
