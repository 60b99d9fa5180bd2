import type { AccessDecision } from '../core/chat-adapter.ts';
import type { Config } from '../core/config.ts';
import type { RateLimiter, RateLimiterFactory } from '../core/rate-limiter.ts';
import { memoryRateLimiters } from '../core/sliding-window-limiter.ts';

export type { AccessDecision };

export interface AccessPolicyOptions {
  /** Where the per-user rate is counted. Default: this process's memory; with REDIS_URL the
   *  bot passes Redis-backed limiters so replicas share one count per person. */
  readonly limiters?: RateLimiterFactory;
}

/**
 * Who may use the bot, where, and how often: allowlists per platform and a per-user rate
 * limit (a sliding minute), enforced in the core so every surface behaves alike.
 */
export class AccessPolicy {
  private readonly policy: Config['policy'];
  /** Undefined when USER_RATE_PER_MINUTE is 0 (no limit). */
  private readonly rate: RateLimiter | undefined;

  constructor(policy: Config['policy'], options: AccessPolicyOptions = {}) {
    this.policy = policy;
    const limiters = options.limiters ?? memoryRateLimiters();
    this.rate =
      policy.userRatePerMinute > 0
        ? limiters({ name: 'user-rate', limit: policy.userRatePerMinute, windowMs: 60_000 })
        : undefined;
  }

  /** `place` is the channel and the workspace (Slack team, Discord guild) it belongs to: an
   *  ALLOWED_CHANNELS entry naming the workspace allows all of its channels. `groups` are the
   *  platform groups the person is in, as ALLOWED_USERS names them after the platform
   *  (`role:<id>` for a Discord role the member has in this server). */
  async check(
    platform: string,
    userId: string,
    place: { readonly channel: string; readonly workspace: string },
    groups: readonly string[] = [],
  ): Promise<AccessDecision> {
    const listed = this.allowlisted(platform, userId, place, groups);
    if (!listed.allowed) return listed;
    return this.withinRate(platform, userId);
  }

  /** The allowlists alone, counting nothing: for adapters that must decide before they
   *  create something on the platform (Discord opens a thread for a mention). */
  allowlisted(
    platform: string,
    userId: string,
    place: { readonly channel: string; readonly workspace: string },
    groups: readonly string[] = [],
  ): AccessDecision {
    const { allowedUsers, allowedChannels } = this.policy;
    if (
      allowedChannels !== undefined &&
      !allowedChannels.includes(`${platform}:${place.channel}`) &&
      !allowedChannels.includes(`${platform}:${place.workspace}`)
    ) {
      return {
        allowed: false,
        reply:
          'Sorry, I am not enabled in this channel. Ask an admin to add it to ALLOWED_CHANNELS.',
      };
    }
    if (allowedUsers !== undefined && !userListed(allowedUsers, platform, userId, groups)) {
      return {
        allowed: false,
        reply:
          'Sorry, I can only work for people on my allowlist. Ask an admin to add you to ALLOWED_USERS.',
      };
    }
    return { allowed: true };
  }

  private async withinRate(platform: string, userId: string): Promise<AccessDecision> {
    if (this.rate === undefined) return { allowed: true };
    const decision = await this.rate.take(`${platform}:${userId}`);
    if (decision.allowed) return decision;
    const waitS = Math.ceil(decision.retryAfterMs / 1000);
    return {
      allowed: false,
      reply: `You have sent ${this.policy.userRatePerMinute} requests in the last minute, my limit per person. Please try again in ${waitS} s.`,
    };
  }
}

/**
 * Whether ALLOWED_USERS names the person (`discord:1234`) or one of their groups
 * (`discord:role:5678`). Groups arrive with the message where the platform sends them (a
 * Discord member's roles); a platform that must look membership up (Slack user groups, with
 * `usergroups.users.list`) resolves it before the check and passes the groups found here.
 */
export function userListed(
  allowedUsers: readonly string[],
  platform: string,
  userId: string,
  groups: readonly string[],
): boolean {
  if (allowedUsers.includes(`${platform}:${userId}`)) return true;
  return groups.some((group) => allowedUsers.includes(`${platform}:${group}`));
}
