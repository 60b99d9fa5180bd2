import type { types } from '@slack/bolt';
import type { Config } from '../../src/core/config.ts';
import { formatBytes } from '../../src/core/bytes.ts';
import { HELP_TEXT } from '../../src/conversation/help-text.ts';
import { escapeMrkdwn, markdownToMrkdwn } from './mrkdwn.ts';
import type { UserThread } from './user-threads.ts';

/** The limits a person runs into, as the Home tab states them. */
export interface HomeLimits {
  readonly cellTimeoutMs: number;
  readonly maxAttachments: number;
  readonly maxAttachmentBytes: number;
  /** 0: no limit. */
  readonly userRatePerMinute: number;
  readonly memoryMb: number;
  readonly sessionIdleMs: number;
}

export function homeLimits(config: Config): HomeLimits {
  return {
    cellTimeoutMs: config.sandbox.cellTimeoutMs,
    maxAttachments: config.agent.maxAttachments,
    maxAttachmentBytes: config.agent.maxAttachmentBytes,
    userRatePerMinute: config.policy.userRatePerMinute,
    memoryMb: config.sandbox.memoryMb,
    sessionIdleMs: config.sessionIdleMs,
  };
}

/** Slack's limit on a section's text. */
const SECTION_MAX_CHARS = 3000;

const INTRO =
  'I run Python for you in a sandbox with no internet: a model writes the code, I run it, and plots, tables and files come back in the thread. Each thread is its own notebook: variables and files persist through it.\n' +
  '*Start:* mention me in a channel with a file and a question, send me a DM, use the *New analysis* shortcut, or *Analyze with sandbot* on a message that has files.';

/** The commands list of the help text, so the tab and `help` never disagree. */
function commandsText(): string {
  const commands = (HELP_TEXT.split('\nCommands:\n')[1] ?? HELP_TEXT).replace(
    '`help`: this message',
    '`help`: this list',
  );
  return `*Commands*, in a thread with me or as \`/sandbot <command>\`:\n${markdownToMrkdwn(commands)}`;
}

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
}

function limitsText(limits: HomeLimits): string {
  const rate =
    limits.userRatePerMinute > 0
      ? `${limits.userRatePerMinute} requests a minute per person`
      : 'no per-person rate limit';
  return [
    '*Limits in force*',
    `• Each code cell runs for at most ${duration(limits.cellTimeoutMs)}`,
    `• Up to ${limits.maxAttachments} attached files per message, ${formatBytes(limits.maxAttachmentBytes)} each`,
    `• ${rate[0]?.toUpperCase() ?? ''}${rate.slice(1)}`,
    `• ${limits.memoryMb} MB of memory per thread's sandbox`,
    `• A thread's sandbox is stopped after ${duration(limits.sessionIdleMs)} without use`,
  ].join('\n');
}

function threadLine(thread: UserThread): string {
  const title = escapeMrkdwn(thread.title).replace(/\|/g, '¦');
  const where = thread.channel.startsWith('D') ? 'in our DM' : `in <#${thread.channel}>`;
  const label = thread.permalink === undefined ? title : `<${thread.permalink}|${title}>`;
  return `• ${label} ${where}`;
}

function threadsText(threads: readonly UserThread[]): string {
  const heading = '*Your recent threads*';
  if (threads.length === 0) {
    return `${heading}\nNone yet. Threads you start with me show up here.`;
  }
  const lines = [heading];
  for (const thread of threads) {
    const line = threadLine(thread);
    if ([...lines, line].join('\n').length > SECTION_MAX_CHARS) break;
    lines.push(line);
  }
  return lines.join('\n');
}

const section = (text: string): types.SectionBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text },
});

/** The Home tab of one person: what sandbot does, their recent threads, the limits. */
export function homeView(
  threads: readonly UserThread[],
  limits: HomeLimits,
  /** The person's usage today (`status`'s line), when usage is kept. */
  usage?: string,
): types.HomeView {
  return {
    type: 'home',
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'sandbot', emoji: true } },
      section(INTRO),
      section(commandsText().slice(0, SECTION_MAX_CHARS)),
      { type: 'divider' },
      section(threadsText(threads)),
      { type: 'divider' },
      ...(usage === undefined
        ? []
        : [section(`*Your usage*\n${usage}`.slice(0, SECTION_MAX_CHARS))]),
      section(limitsText(limits)),
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: 'Refreshed each time you open this tab.' }],
      },
    ],
  };
}
