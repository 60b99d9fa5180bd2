import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SandbotError } from '../core/errors.ts';
import type { StoredMessage, TurnProgress } from '../core/turn-store.ts';

/**
 * What the Redis and SQLite turn stores share: one sort key, so both order a thread's turns
 * the same way, and one reading of stored messages and progress, so a turn written by one
 * release of the bot reads the same in the next (a rolling deploy shares one store).
 */

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * A string whose byte order is the numeric order of `order` (a non-negative decimal of any
 * length: a Slack `ts`, a Discord snowflake, a sequence number), then of the turn id for
 * equal orders. The integer part goes after its length, so '999' sorts before '1000' without
 * a fixed width; trailing zeros of the fraction are dropped, so '1.50' equals '1.5'. The
 * space before the turn id sorts below every digit and '.', so '1716' < '1716.0002'.
 */
export function turnSortKey(order: string, turnId: string): string {
  const match = DECIMAL.exec(order);
  if (match === null) {
    throw new SandbotError(
      'INVALID_REQUEST',
      `a turn's order must be a non-negative decimal number, got ${JSON.stringify(order)}`,
    );
  }
  const integer = (match[1] ?? '0').replace(/^0+(?=\d)/, '');
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  const length = String(integer.length).padStart(6, '0');
  return `${length}${integer}${fraction === '' ? '' : `.${fraction}`} ${turnId}`;
}

/** `runnerId:random`: names the holder (for whoever reads the store) and is never guessed. */
export function newLeaseToken(runnerId: string): string {
  return `${runnerId}:${randomBytes(12).toString('hex')}`;
}

const storedMessage = z.object({
  sessionKey: z.string(),
  author: z.object({ id: z.string(), name: z.string() }),
  text: z.string(),
  attachments: z.array(z.object({ name: z.string(), sizeBytes: z.number(), ref: z.string() })),
  reply: z
    .object({ surface: z.string() })
    .catchall(z.union([z.string(), z.number(), z.boolean()]))
    .optional(),
});

export function encodeMessage(message: StoredMessage): string {
  return JSON.stringify({
    sessionKey: message.sessionKey,
    author: { id: message.author.id, name: message.author.name },
    text: message.text,
    attachments: message.attachments.map((a) => ({
      name: a.name,
      sizeBytes: a.sizeBytes,
      ref: a.ref,
    })),
    ...(message.reply === undefined ? {} : { reply: message.reply }),
  });
}

export function decodeMessage(json: string): StoredMessage {
  const { reply, ...message } = storedMessage.parse(JSON.parse(json));
  return reply === undefined ? message : { ...message, reply };
}

/**
 * The recorded fields of `progress` that are set. `resumes` is the store's to count (from how
 * many times the turn was claimed), so a runner's own value is not kept.
 */
export function recordedProgress(progress: TurnProgress): Record<string, string | number> {
  const fields: Record<string, string | number> = {};
  if (progress.progressMessageId !== undefined)
    fields.progressMessageId = progress.progressMessageId;
  if (progress.jobInFlight !== undefined) fields.jobInFlight = progress.jobInFlight;
  if (progress.agentSteps !== undefined) fields.agentSteps = progress.agentSteps;
  if (progress.answeringAt !== undefined) fields.answeringAt = progress.answeringAt;
  if (progress.answeredAt !== undefined) fields.answeredAt = progress.answeredAt;
  return fields;
}

/** Progress as stored (fields of unknown type, from either store), with `resumes` counted. */
export function readProgress(stored: Record<string, unknown>, claims: number): TurnProgress {
  const { progressMessageId, jobInFlight, agentSteps, answeringAt, answeredAt } = stored;
  return {
    ...(typeof progressMessageId === 'string' ? { progressMessageId } : {}),
    ...(typeof jobInFlight === 'string' ? { jobInFlight } : {}),
    ...(typeof agentSteps === 'string' ? { agentSteps } : {}),
    ...(typeof answeringAt === 'number' ? { answeringAt } : {}),
    ...(typeof answeredAt === 'number' ? { answeredAt } : {}),
    ...(claims > 1 ? { resumes: claims - 1 } : {}),
  };
}
