import type { RenderLimits } from '../../src/render/render-reply.ts';

/**
 * Slack's numbers, in one place. Where Slack gives a range or a recommendation rather than a
 * hard limit, the choice and its reason are in docs/slack.md.
 */

/**
 * Final answers are posted as mrkdwn in a message's `text` (hard limit 40,000 characters).
 * Slack folds anything past about 4,000 behind "Show more" and recommends staying under it,
 * so a message carries at most 3,500 characters of Markdown: converting to mrkdwn (escaping
 * `&`, `<`, `>`) may grow it a little and it still reads in one piece.
 */
export const SLACK_RENDER_LIMITS: RenderLimits = {
  maxMessageChars: 3500,
  /** Beyond four messages the whole answer is attached as reply.md instead of flooding. */
  maxMessages: 4,
  /** files.completeUploadExternal shares up to 10 files in one message. */
  maxFilesPerMessage: 10,
  /** Slack takes files up to 1 GB; the sandbox caps outputs far below that. */
  maxFileBytes: 1024 * 1024 * 1024,
};

/** A section block's text may hold 3,000 characters; the live status lives in one. */
export const SECTION_TEXT_LIMIT = 3000;

/** Status text before conversion; leaves room for mrkdwn escaping inside SECTION_TEXT_LIMIT. */
export const STATUS_MAX_CHARS = 2400;

/** chat.update is Tier 3 (about 50 a minute) and Slack asks for about one edit a second. */
export const STATUS_INTERVAL_MS = 1000;

/** chat.appendStream is Tier 4 (100+ a minute): a streamed answer grows about twice a second. */
export const STREAM_INTERVAL_MS = 500;

/**
 * The status message appears only when a turn is still running after this long: the
 * reaction (or the assistant status) already shows within a second that work started, and
 * quick answers then arrive without a status message flashing up and vanishing.
 */
export const STATUS_DELAY_MS = 800;

/**
 * Slack's status line under a thread shows a phase of the turn (thinking, code, writing) once
 * that phase has lasted this long: a quicker one is over before anyone could read it, and its
 * Web API call would only compete with the turn's own requests (issue 19: the bot's share of
 * a turn). At most one setStatus per interval, so the line cannot flicker either.
 */
export const THREAD_STATUS_DELAY_MS = 200;

/** Reaction put on a message the moment it is taken, and removed when the answer is in. */
export const WORKING_REACTION = 'eyes';

/** Block Kit action id of the Stop button; its value is the session key. */
export const STOP_ACTION_ID = 'sandbot_stop';

/**
 * Web API retries (p-retry options): a 429 first waits its Retry-After, then this backoff.
 * Bolt's default retries for about 30 minutes, far past the point where a chat reply or a
 * status edit means anything; four retries within about 15 s is what a person would wait.
 */
export const WEB_API_RETRY = {
  retries: 4,
  factor: 2,
  minTimeout: 500,
  maxTimeout: 8000,
  randomize: true,
  // A retry waiting at shutdown does not keep the process alive.
  unref: true,
} as const;

/**
 * Socket Mode's apps.connections.open when (re)connecting: as long as it takes, at most 30 s
 * apart. The client treats a connection it could not reopen as fatal (the process would end
 * on an unhandled rejection), so it must not give up; and a wait in progress must not keep a
 * stopped bot from exiting.
 */
export const SOCKET_MODE_RETRY = {
  forever: true,
  factor: 1.3,
  minTimeout: 1000,
  maxTimeout: 30_000,
  unref: true,
} as const;
