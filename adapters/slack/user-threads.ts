import { RecentThreads } from './recent-threads.ts';

/** One thread a person started or joined with the bot, as the Home tab lists it. */
export interface UserThread {
  readonly channel: string;
  readonly threadTs: string;
  /** The first line of what was asked, as plain text. */
  readonly title: string;
  /** chat.getPermalink's answer, once asked (links do not change). */
  permalink?: string;
}

export interface UserThreadsOptions {
  /** Threads kept per person, newest first. Default 10. */
  readonly perUser?: number;
  /** People remembered, least recently active forgotten first. Default 10,000. */
  readonly users?: number;
}

const TITLE_MAX_CHARS = 80;

/**
 * Each person's recent threads with the bot, per workspace, for the Home tab: bounded on
 * both axes and kept in this process's memory only, so a restart (or another replica) starts
 * with an empty list; the threads themselves are untouched. A thread seen again moves to the
 * top and keeps its first title.
 */
export class UserThreads {
  private readonly perUser: number;
  private readonly maxUsers: number;
  /** `team:user` to threads, newest first; Map order is least recently active first. */
  private readonly byUser = new Map<string, UserThread[]>();
  /** Every thread added, whoever's, bounded: says where the bot is active. */
  private readonly active = new RecentThreads();

  constructor(options: UserThreadsOptions = {}) {
    this.perUser = options.perUser ?? 10;
    this.maxUsers = options.users ?? 10_000;
  }

  add(team: string, user: string, thread: Omit<UserThread, 'permalink'>): void {
    this.active.add(`${team}:${thread.channel}:${thread.threadTs}`);
    const key = `${team}:${user}`;
    const threads = this.byUser.get(key) ?? [];
    this.byUser.delete(key);
    const index = threads.findIndex(
      (t) => t.channel === thread.channel && t.threadTs === thread.threadTs,
    );
    const known = index >= 0 ? threads.splice(index, 1)[0] : undefined;
    threads.unshift(known ?? { ...thread, title: titleOf(thread.title) });
    threads.length = Math.min(threads.length, this.perUser);
    this.byUser.set(key, threads);
    if (this.byUser.size > this.maxUsers) {
      const oldest = this.byUser.keys().next();
      if (oldest.done !== true) this.byUser.delete(oldest.value);
    }
  }

  /** Whether anyone in the workspace has this thread (the bot is active in it). */
  knows(team: string, channel: string, threadTs: string): boolean {
    return this.active.has(`${team}:${channel}:${threadTs}`);
  }

  /** Newest first; the entries themselves, so a permalink found is kept. */
  recent(team: string, user: string): readonly UserThread[] {
    return this.byUser.get(`${team}:${user}`) ?? [];
  }
}

function titleOf(text: string): string {
  const line =
    text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  if (line === '') return '(files only)';
  return line.length > TITLE_MAX_CHARS ? `${line.slice(0, TITLE_MAX_CHARS - 1)}…` : line;
}
