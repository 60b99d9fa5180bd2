import type { Progress } from '../core/reply.ts';
import { answerTail } from './answer-tail.ts';

export interface LiveProgressOptions {
  /** Least time between two `show` calls (Slack chat.update ~1/s, Discord edits ~1 per 1.5 s). */
  readonly intervalMs: number;
  /** Longest status text the platform takes in one message. */
  readonly maxChars: number;
  /**
   * Posts the status message the first time, edits it after; never called concurrently.
   * `answerPreview` is true when the text carries the answer being written (its tail), which
   * the final answer message repeats: a status kept after the turn should not keep it.
   */
  readonly show: (text: string, answerPreview: boolean) => Promise<void>;
  /** A failed `show` is reported here and the next update tries again. */
  readonly onError?: (error: unknown) => void;
}

/** Output kept for the status message: its tail, since the newest lines matter most. */
const OUTPUT_TAIL_CHARS = 1500;

/** Answer text kept while it streams: more than any status message shows (the playground's). */
const ANSWER_TAIL_CHARS = 10_000;

/**
 * The live status message of a running turn, shared by every adapter: progress updates are
 * folded into one text and shown at once the first time (visible progress within a second),
 * then at most once per interval, always ending on the latest state.
 */
export class LiveProgress {
  private readonly options: LiveProgressOptions;
  private state: ProgressState = { phase: 'thinking', code: '', output: '', answer: '' };
  private shownText: string | undefined;
  private lastShowAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private closed = false;

  constructor(options: LiveProgressOptions) {
    this.options = options;
  }

  update(progress: Progress): void {
    if (this.closed) return;
    this.state = nextState(this.state, progress);
    this.schedule();
  }

  /** Stops updating and waits for a `show` in flight, so the final answer lands after it. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.inFlight !== undefined) return;
    const wait = Math.max(0, this.lastShowAt + this.options.intervalMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    if (this.closed) return;
    const text = renderProgress(this.state, this.options.maxChars);
    if (text === this.shownText) return;
    this.lastShowAt = performance.now();
    this.inFlight = this.options
      .show(text, showsAnswer(this.state))
      .then(() => {
        this.shownText = text;
      })
      .catch((error: unknown) => this.options.onError?.(error))
      .finally(() => {
        this.inFlight = undefined;
        // Updates that came while this one was in flight still get shown.
        if (!this.closed && renderProgress(this.state, this.options.maxChars) !== this.shownText)
          this.schedule();
      });
  }
}

export interface ProgressState {
  readonly phase: 'thinking' | 'running' | 'answering';
  /** The cell running now (empty while thinking). */
  readonly code: string;
  /** Output of the running cell so far (its tail). */
  readonly output: string;
  /** The model's text so far since the last cell (its tail): the answer being written. */
  readonly answer?: string;
}

export function nextState(state: ProgressState, progress: Progress): ProgressState {
  switch (progress.type) {
    case 'thinking':
      return { ...state, phase: 'thinking', answer: '' };
    case 'running':
      // Text the model wrote before running a cell is not the answer; the answer comes after.
      return { phase: 'running', code: progress.code, output: '', answer: '' };
    case 'output':
      return { ...state, output: (state.output + progress.text).slice(-OUTPUT_TAIL_CHARS) };
    case 'answering':
      return {
        ...state,
        phase: 'answering',
        answer: ((state.answer ?? '') + progress.text).slice(-ANSWER_TAIL_CHARS),
      };
  }
}

/**
 * The status text: what is happening, the running code's first lines, the output's tail; once
 * the answer is being written, the answer so far (its tail) instead of the code and output.
 */
export function renderProgress(state: ProgressState, maxChars: number): string {
  const heading = {
    thinking: '⏳ Thinking…',
    running: '⚙️ Running code…',
    answering: '✍️ Writing the answer…',
  }[state.phase];
  if (showsAnswer(state)) {
    const answer = (state.answer ?? '').trim();
    return `${heading}\n\n${answerTail(answer, maxChars - heading.length - 2)}`.slice(0, maxChars);
  }
  const parts = [heading];
  let room = maxChars - heading.length;
  const code = firstLines(state.code, 8);
  const codeBlock = code === '' ? '' : fenced(code, 'python');
  if (codeBlock !== '' && codeBlock.length + 2 <= room / 2) {
    parts.push(codeBlock);
    room -= codeBlock.length + 2;
  }
  const outputRoom = room - 2 - fenced('', '').length - 2;
  if (state.output.trim() !== '' && outputRoom > 20) {
    const tail = state.output.trimEnd();
    const shown = tail.length > outputRoom ? `…${tail.slice(-(outputRoom - 1))}` : tail;
    parts.push(fenced(shown, ''));
  }
  return parts.join('\n\n').slice(0, maxChars);
}

function showsAnswer(state: ProgressState): boolean {
  return state.phase === 'answering' && (state.answer ?? '').trim() !== '';
}

function firstLines(code: string, count: number): string {
  const lines = code.trimEnd().split('\n');
  if (lines.length <= count) return lines.join('\n');
  return `${lines.slice(0, count).join('\n')}\n# … ${lines.length - count} more lines`;
}

/** A fence longer than any backtick run inside, so output cannot close it early. */
function fenced(text: string, language: string): string {
  const longest = (text.match(/`+/g) ?? []).reduce((n, run) => Math.max(n, run.length), 2);
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${text}\n${fence}`;
}
