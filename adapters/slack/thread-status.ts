import type { webApi } from '@slack/bolt';
import type { Progress } from '../../src/core/reply.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { slackErrorCode } from './slack-errors.ts';
import { THREAD_STATUS_DELAY_MS } from './slack-limits.ts';

/** Slack clears a status after about two minutes; a long cell's is set again before that. */
const REFRESH_MS = 90_000;

const STATUS_OF: Readonly<Record<Progress['type'], string>> = {
  thinking: 'is thinking…',
  running: 'is running code…',
  output: 'is running code…',
  answering: 'is writing…',
};

/**
 * Slack's own status line under a thread ("sandbot is running code…"), set with
 * assistant.threads.setStatus in DMs and channel threads as the turn moves from thinking to
 * code to writing, and set again while one phase lasts. Slack clears it when the app posts
 * its answer. Where Slack refuses it (a workspace without the agent features), this reply
 * stops asking; the status message shows progress either way.
 *
 * A change is sent THREAD_STATUS_DELAY_MS later, as the status is then: a phase over sooner
 * (a quick cell, an instant model) is never sent, and a turn's Web API calls for its status
 * stay off the path of its requests to the model and the sandbox. One still unsent when the
 * answer is posted is dropped (the answer clears the status anyway).
 */
export class ThreadStatus {
  private readonly client: webApi.WebClient;
  private readonly place: { readonly channel: string; readonly threadTs: string };
  private readonly logger: Logger;
  private current = '';
  private refresh: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private off = false;

  constructor(
    client: webApi.WebClient,
    place: { readonly channel: string; readonly threadTs: string },
    logger: Logger,
  ) {
    this.client = client;
    this.place = place;
    this.logger = logger;
  }

  show(update: Progress): void {
    const status = STATUS_OF[update.type];
    if (this.off || status === this.current) return;
    this.current = status;
    this.pending ??= setTimeout(() => {
      this.pending = undefined;
      this.send();
    }, THREAD_STATUS_DELAY_MS).unref();
    clearInterval(this.refresh);
    this.refresh = setInterval(() => this.send(), REFRESH_MS);
    this.refresh.unref();
  }

  close(): void {
    this.off = true;
    clearInterval(this.refresh);
    clearTimeout(this.pending);
    this.pending = undefined;
  }

  private send(): void {
    if (this.off) return;
    this.client.assistant.threads
      .setStatus({
        channel_id: this.place.channel,
        thread_ts: this.place.threadTs,
        status: this.current,
      })
      .catch((error: unknown) => {
        this.logger.debug(
          { code: slackErrorCode(error) },
          'thread status refused; not asking again',
        );
        this.close();
      });
  }
}
