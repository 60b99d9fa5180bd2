import type { types, webApi } from '@slack/bolt';
import type { Logger } from '../../src/logging/logger.ts';
import type { EditBudget } from './edit-budget.ts';
import { clampMrkdwn, markdownToMrkdwn } from './mrkdwn.ts';
import { SECTION_TEXT_LIMIT, STOP_ACTION_ID } from './slack-limits.ts';
import { slackErrorCode } from './slack-errors.ts';
import { placeArgs, type SlackPlace } from './slack-place.ts';

export interface StatusMessageOptions {
  readonly client: webApi.WebClient;
  readonly place: SlackPlace;
  /** The Stop button's value: the session its press stops. */
  readonly sessionKey: string;
  /** How long a turn runs before the message appears (see STATUS_DELAY_MS). */
  readonly delayMs: number;
  /** The workspace's chat.update budget, shared by every status message. */
  readonly edits: EditBudget;
  readonly logger: Logger;
  /** A status message posted before (by a runner that died): edited and removed as this one. */
  readonly takeOverTs?: string;
  /** Called with the message's ts when it is posted (not when taken over). */
  readonly onPosted?: (ts: string) => void;
}

/**
 * The live status of a running turn: one message in the thread with what is happening, the
 * running code and its latest output, and a Stop button; posted once, then edited (LiveProgress
 * paces the calls), and deleted when the answer is in, so the thread keeps only the answer.
 */
export class StatusMessage {
  private readonly options: StatusMessageOptions;
  private readonly finished = new AbortController();
  private ts: string | undefined;
  private readonly createdAt = performance.now();

  constructor(options: StatusMessageOptions) {
    this.options = options;
    this.ts = options.takeOverTs;
  }

  /** LiveProgress's `show`: never called concurrently. */
  async show(markdown: string): Promise<void> {
    const { client, place } = this.options;
    const text = clampMrkdwn(markdownToMrkdwn(markdown), SECTION_TEXT_LIMIT);
    const blocks = statusBlocks(text, this.options.sessionKey);
    if (this.ts === undefined) {
      await this.waitForDelay();
      if (this.finished.signal.aborted) return;
      const posted = await client.chat.postMessage({ ...placeArgs(place), text, blocks });
      this.ts = posted.ts;
      if (posted.ts !== undefined) this.options.onPosted?.(posted.ts);
      return;
    }
    if (!(await this.options.edits.take())) return;
    try {
      await client.chat.update({ channel: place.channel, ts: this.ts, text, blocks });
    } catch (error) {
      // Someone deleted it (or a taken-over one was already gone): the next show posts anew.
      if (slackErrorCode(error) === 'message_not_found') this.ts = undefined;
      throw error;
    }
  }

  /** Call before LiveProgress.close(): a status still waiting for its delay is never posted. */
  cancelPending(): void {
    this.finished.abort();
  }

  /** Removes the message; if Slack refuses, at least the Stop button goes. */
  async remove(): Promise<void> {
    this.finished.abort();
    const ts = this.ts;
    if (ts === undefined) return;
    const { client, place, logger } = this.options;
    try {
      await client.chat.delete({ channel: place.channel, ts });
    } catch (error) {
      logger.warn({ code: slackErrorCode(error) }, 'could not delete the status message');
      await client.chat
        .update({ channel: place.channel, ts, text: 'Done.', blocks: [] })
        .catch(() => undefined);
    }
  }

  private waitForDelay(): Promise<void> {
    const remaining = this.options.delayMs - (performance.now() - this.createdAt);
    const signal = this.finished.signal;
    if (remaining <= 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, remaining);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

export function statusBlocks(mrkdwn: string, sessionKey: string): types.KnownBlock[] {
  return [
    { type: 'section', text: { type: 'mrkdwn', text: mrkdwn } },
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: STOP_ACTION_ID,
          text: { type: 'plain_text', text: 'Stop' },
          style: 'danger',
          value: sessionKey,
        },
      ],
    },
  ];
}
