import type { webApi } from '@slack/bolt';
import type { Logger } from '../../src/logging/logger.ts';
import { slackErrorCode } from './slack-errors.ts';

/**
 * People's display names for the model ("ana: plot this"), so several people in one thread
 * are told apart by name rather than by user id. Most events carry only the id; users.info
 * (users:read) is asked once per person and remembered. Without the scope, the id is used,
 * and a failed lookup is not repeated for RETRY_AFTER_MS (a workspace without the scope would
 * otherwise pay a Web API round trip on every message, about 5 ms measured by the bench).
 */
const RETRY_AFTER_MS = 10 * 60_000;

export class UserNames {
  private readonly names = new Map<string, Promise<string>>();
  /** When a person's lookup last failed (performance.now()). */
  private readonly failedAt = new Map<string, number>();
  private readonly logger: Logger;
  private readonly capacity: number;

  constructor(logger: Logger, capacity = 5000) {
    this.logger = logger;
    this.capacity = capacity;
  }

  nameOf(client: webApi.WebClient, userId: string, fromEvent: string | undefined): Promise<string> {
    if (fromEvent !== undefined) return Promise.resolve(fromEvent);
    const known = this.names.get(userId);
    if (known !== undefined) return known;
    const failed = this.failedAt.get(userId);
    if (failed !== undefined && performance.now() - failed < RETRY_AFTER_MS) {
      return Promise.resolve(userId);
    }
    const lookup = this.lookup(client, userId);
    if (this.names.size >= this.capacity) this.names.clear();
    this.names.set(userId, lookup);
    return lookup;
  }

  private async lookup(client: webApi.WebClient, userId: string): Promise<string> {
    try {
      const { user } = await client.users.info({ user: userId });
      const profile = user?.profile;
      return profile?.display_name || profile?.real_name || user?.name || userId;
    } catch (error) {
      // Not remembered as a name: after a while a message tries again (the scope may have
      // been granted meanwhile).
      this.names.delete(userId);
      if (this.failedAt.size >= this.capacity) this.failedAt.clear();
      this.failedAt.set(userId, performance.now());
      this.logger.debug({ code: slackErrorCode(error) }, 'users.info failed; using the user id');
      return userId;
    }
  }
}
