import type { types, webApi } from '@slack/bolt';
import type { Logger } from '../../src/logging/logger.ts';
import { slackErrorCode } from './slack-errors.ts';
import type { SlackPlace } from './slack-place.ts';
import { StreamMarkdown } from './stream-markdown.ts';

/**
 * A turn's answer as one streaming message (chat.startStream, appendStream, stopStream): each
 * code cell a task in it (running, then done), then the model's text as it is written. The
 * stream starts with the first cell or the first text, so the thread shows work at once;
 * later pieces go out at most every `intervalMs` (appendStream is Tier 4, 100+ a minute).
 * When Slack refuses the stream (the workspace does not offer it, or a call fails midway),
 * `onFailed` is told once, the caller falls back to editing its status message, and `stop`
 * removes a half-written stream so the final answer is posted whole.
 */
export interface AnswerStreamOptions {
  readonly client: webApi.WebClient;
  /** A thread: streams are replies. */
  readonly place: SlackPlace & { readonly threadTs: string };
  /** Who asked, and their team: Slack wants the recipient outside DMs. */
  readonly recipient: { readonly userId: string; readonly teamId: string } | undefined;
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Told once, with Slack's error code, when the stream cannot go on. */
  readonly onFailed: (code: string, started: boolean) => void;
}

type Chunk = types.AnyChunk;

/** Longest task detail Slack shows (its task chunks cut at 256 characters). */
const TASK_TEXT_CHARS = 256;

export class SlackAnswerStream {
  private readonly options: AnswerStreamOptions;
  private ts: string | undefined;
  private failed = false;
  private stopped = false;
  /** Pieces not sent yet, in order. */
  private pending: Chunk[] = [];
  /** All of the model's text so far, sent or not. */
  private text = '';
  private cells = 0;
  /** Makes the model's text safe for Slack as it streams (no mentions, web links only). */
  private readonly markdown = new StreamMarkdown();
  private timer: NodeJS.Timeout | undefined;
  private lastSendAt = -Infinity;
  /** One call at a time, in order. */
  private sending: Promise<void> = Promise.resolve();

  constructor(options: AnswerStreamOptions) {
    this.options = options;
  }

  /** Whether the stream is still the way this answer is shown. */
  get live(): boolean {
    return !this.failed && !this.stopped;
  }

  /** All of the answer's text so far (sent or pending). */
  get answerText(): string {
    return this.text;
  }

  /** A cell starts: the previous one's task is done, this one's is running. */
  cellStarted(code: string): void {
    if (!this.live) return;
    this.queueText(this.markdown.flush());
    this.finishCell();
    this.cells += 1;
    // Text before a cell is not the answer: the answer is what comes after the last cell.
    this.text = '';
    this.pending.push({
      type: 'task_update',
      id: `cell-${this.cells}`,
      title: `Running code (cell ${this.cells})`,
      status: 'in_progress',
      details: firstLine(code),
    });
    this.schedule();
  }

  /** Text the model wrote. */
  append(delta: string): void {
    if (!this.live || delta === '') return;
    this.finishCell();
    this.text += delta;
    this.queueText(this.markdown.push(delta));
    this.schedule();
  }

  private queueText(text: string): void {
    if (text === '') return;
    const last = this.pending.at(-1);
    if (last?.type === 'markdown_text') last.text += text;
    else this.pending.push({ type: 'markdown_text', text });
  }

  /**
   * Ends the stream with its last pieces and `blocks` at the bottom; true when Slack shows the
   * whole `finalText` in it. Otherwise (the stream failed, or the answer is not the text that
   * streamed) a started stream is deleted and false says to post the answer in full.
   */
  async stop(finalText: string, blocks: types.KnownBlock[]): Promise<boolean> {
    if (this.stopped) return false;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.sending;
    const whole = !this.failed && this.ts !== undefined && this.text.trim() === finalText.trim();
    if (whole && this.ts !== undefined) {
      this.queueText(this.markdown.flush());
      this.finishCell();
      try {
        await this.options.client.chat.stopStream({
          channel: this.options.place.channel,
          ts: this.ts,
          ...this.takePending(),
          blocks,
        });
        return true;
      } catch (error) {
        this.options.logger.warn({ code: slackErrorCode(error) }, 'could not stop the stream');
      }
    }
    await this.discard();
    return false;
  }

  private finishCell(): void {
    if (this.cells === 0) return;
    const id = `cell-${this.cells}`;
    const done = this.pending.some(
      (c) => c.type === 'task_update' && c.id === id && c.status === 'complete',
    );
    if (done) return;
    this.pending.push({
      type: 'task_update',
      id,
      title: `Ran code (cell ${this.cells})`,
      status: 'complete',
    });
  }

  private schedule(): void {
    if (this.timer !== undefined || !this.live) return;
    // The first piece goes at once (work shows at once); later ones at the stream's pace.
    const wait =
      this.ts === undefined && this.lastSendAt === -Infinity
        ? 0
        : Math.max(0, this.lastSendAt + this.options.intervalMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sending = this.sending.then(() => this.send());
    }, wait);
  }

  private async send(): Promise<void> {
    if (!this.live || this.pending.length === 0) return;
    this.lastSendAt = performance.now();
    const { client, place, recipient } = this.options;
    const pieces = this.takePending();
    try {
      if (this.ts === undefined) {
        const started = await client.chat.startStream({
          channel: place.channel,
          thread_ts: place.threadTs,
          ...(recipient === undefined
            ? {}
            : { recipient_user_id: recipient.userId, recipient_team_id: recipient.teamId }),
          ...pieces,
        });
        this.ts = started.ts;
      } else {
        await client.chat.appendStream({ channel: place.channel, ts: this.ts, ...pieces });
      }
    } catch (error) {
      this.fail(slackErrorCode(error));
      return;
    }
    if (this.pending.length > 0) this.schedule();
  }

  /** The pending pieces as call arguments: plain text alone, or chunks. */
  private takePending(): { markdown_text: string } | { chunks: Chunk[] } {
    const pieces = this.pending;
    this.pending = [];
    const only = pieces[0];
    if (pieces.length === 1 && only?.type === 'markdown_text') return { markdown_text: only.text };
    return { chunks: pieces };
  }

  private fail(code: string): void {
    if (this.failed) return;
    this.failed = true;
    this.options.logger.info({ code }, 'Slack streaming unavailable: editing the status instead');
    this.options.onFailed(code, this.ts !== undefined);
  }

  /** A half-written stream goes, so the answer posted in full is the only one. */
  private async discard(): Promise<void> {
    if (this.ts === undefined) return;
    await this.options.client.chat
      .delete({ channel: this.options.place.channel, ts: this.ts })
      .catch((error: unknown) =>
        this.options.logger.warn({ code: slackErrorCode(error) }, 'could not remove the stream'),
      );
  }
}

function firstLine(code: string): string {
  const line = code.trim().split('\n')[0] ?? '';
  return line.length <= TASK_TEXT_CHARS ? line : `${line.slice(0, TASK_TEXT_CHARS - 1)}…`;
}
