import type { Logger } from '../../src/logging/logger.ts';
import { LiveProgress, type LiveProgressOptions } from '../../src/render/live-progress.ts';
import { errorFields } from './discord-errors.ts';
import { MAX_MESSAGE_CHARS, PROGRESS_INTERVAL_MS } from './limits.ts';

/**
 * The live status of a turn, shown by posting or editing one message at Discord's pace (an
 * answer being written streams into it at that pace too).
 */
export function discordLiveProgress(
  show: LiveProgressOptions['show'],
  logger: Logger,
  maxChars = MAX_MESSAGE_CHARS,
): LiveProgress {
  return new LiveProgress({
    intervalMs: PROGRESS_INTERVAL_MS,
    maxChars,
    show,
    onError: (error) => logger.warn(errorFields(error), 'progress update failed'),
  });
}

/**
 * The status message once the answer is posted: the code and output it showed stay, the
 * heading (its first line) says the turn is over, and the Stop button goes.
 */
export function finishedStatus(shown: string, maxChars = MAX_MESSAGE_CHARS): string {
  const heading = '✅ Finished: the answer is below.';
  const rest = shown.split('\n').slice(1).join('\n');
  // The longer heading must not push a full status message over Discord's limit; without
  // the old body it still says the turn is over.
  if (rest === '' || heading.length + 1 + rest.length > maxChars) return heading;
  return `${heading}\n${rest}`;
}
