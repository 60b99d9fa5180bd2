import type { BlobStore } from '../core/blob-store.ts';
import type { Config } from '../core/config.ts';
import { formatBytes } from '../core/bytes.ts';
import type { SessionFile } from '../core/session-store.ts';
import { mimeFromName } from '../core/mime.ts';
import { safeUniqueName } from '../core/file-names.ts';
import type { InboundAttachment } from '../core/inbound-message.ts';

export interface Intake {
  /** Stored, under names unique in the thread. */
  readonly accepted: SessionFile[];
  /** What was not taken and why, for the reply's notices. */
  readonly refusals: string[];
}

/**
 * Stores a message's attachments within the count and size limits, under safe names that
 * do not clash with the thread's files; says what was refused.
 */
export async function takeAttachments(
  attachments: readonly InboundAttachment[],
  existing: readonly SessionFile[],
  limits: Pick<Config['agent'], 'maxAttachments' | 'maxAttachmentBytes'>,
  blobs: Pick<BlobStore, 'put'>,
): Promise<Intake> {
  const { maxAttachments, maxAttachmentBytes } = limits;
  const accepted: SessionFile[] = [];
  const refusals: string[] = [];
  const taken = new Set(existing.map((f) => f.name));
  for (const [index, attachment] of attachments.entries()) {
    if (index >= maxAttachments) {
      refusals.push(
        `Only ${maxAttachments} files per message are taken; ${attachment.name} and later ones were not. Send them in another message.`,
      );
      break;
    }
    if (attachment.sizeBytes > maxAttachmentBytes) {
      refusals.push(
        `${attachment.name} is ${formatBytes(attachment.sizeBytes)}, over the ${formatBytes(maxAttachmentBytes)} limit per file; it was not taken.`,
      );
      continue;
    }
    const content = await attachment.fetch();
    if (content.length > maxAttachmentBytes) {
      refusals.push(
        `${attachment.name} is over the ${formatBytes(maxAttachmentBytes)} limit per file; it was not taken.`,
      );
      continue;
    }
    const name = safeUniqueName(attachment.name, taken);
    taken.add(name);
    const blob = await blobs.put(content, { name, mime: mimeFromName(name) });
    accepted.push({ name, blob, origin: 'upload' });
  }
  return { accepted, refusals };
}
