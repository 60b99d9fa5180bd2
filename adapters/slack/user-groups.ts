import type { webApi } from '@slack/bolt';
import type { Logger } from '../../src/logging/logger.ts';
import { slackErrorCode } from './slack-errors.ts';

/** How long a group's members are trusted before Slack is asked again. */
const MEMBERS_TTL_MS = 5 * 60_000;
const ENTRY = /^slack:group:(S[A-Z0-9]+)$/;

/**
 * The Slack user groups ALLOWED_USERS names (`slack:group:S0123`), resolved for a person with
 * `usergroups.users.list` (scope `usergroups:read`) and cached for five minutes per group, so
 * a team can grant access by group. The groups found are passed to the core's access check
 * as `group:S0123`. A group Slack will not list (a missing scope, a deleted group) counts as
 * empty: its members are refused politely, and the log says why.
 */
export class SlackUserGroups {
  private readonly groupIds: readonly string[];
  private readonly logger: Logger;
  private readonly members = new Map<string, { ids: ReadonlySet<string>; at: number }>();

  private constructor(groupIds: readonly string[], logger: Logger) {
    this.groupIds = groupIds;
    this.logger = logger;
  }

  /** Undefined when ALLOWED_USERS names no Slack group (nothing to look up). */
  static fromAllowedUsers(
    allowedUsers: readonly string[] | undefined,
    logger: Logger,
  ): SlackUserGroups | undefined {
    const ids = (allowedUsers ?? []).flatMap((entry) => {
      const id = ENTRY.exec(entry)?.[1];
      return id === undefined ? [] : [id];
    });
    return ids.length === 0 ? undefined : new SlackUserGroups(ids, logger);
  }

  /** The listed groups `userId` is in, as the access check names them (`group:S0123`). */
  async of(client: webApi.WebClient, userId: string): Promise<string[]> {
    const found: string[] = [];
    for (const id of this.groupIds) {
      const members = await this.membersOf(client, id);
      if (members.has(userId)) found.push(`group:${id}`);
    }
    return found;
  }

  private async membersOf(client: webApi.WebClient, id: string): Promise<ReadonlySet<string>> {
    const cached = this.members.get(id);
    if (cached !== undefined && performance.now() - cached.at < MEMBERS_TTL_MS) return cached.ids;
    let ids: ReadonlySet<string> = new Set();
    try {
      const answer = await client.usergroups.users.list({ usergroup: id });
      ids = new Set(answer.users ?? []);
    } catch (error) {
      this.logger.warn(
        { group: id, code: slackErrorCode(error) },
        'could not list a user group of ALLOWED_USERS (scope usergroups:read?); treating it as empty',
      );
    }
    this.members.set(id, { ids, at: performance.now() });
    return ids;
  }
}
