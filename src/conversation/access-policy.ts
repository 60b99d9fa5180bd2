import type { Config } from '../config/config.ts';

export type AccessDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly reply: string };

/**
 * Who may use the bot, where, and how often: allowlists per platform and a per-user rate
 * limit (a sliding minute), enforced in the core so every surface behaves alike.
 */
export class AccessPolicy {
  private readonly policy: Config['policy'];
  private readonly recent = new Map<string, number[]>();
  private readonly now: () => number;

  constructor(policy: Config['policy'], now: () => number = Date.now) {
    this.policy = policy;
    this.now = now;
  }

  /** `place` is the channel and the workspace (Slack team, Discord guild) it belongs to: an
   *  ALLOWED_CHANNELS entry naming the workspace allows all of its channels. */
  check(
    platform: string,
    userId: string,
    place: { readonly channel: string; readonly workspace: string },
  ): AccessDecision {
    const listed = this.allowlisted(platform, userId, place);
    if (!listed.allowed) return listed;
    return this.withinRate(platform, userId);
  }

  /** The allowlists alone, counting nothing: for adapters that must decide before they
   *  create something on the platform (Discord opens a thread for a mention). */
  allowlisted(
    platform: string,
    userId: string,
    place: { readonly channel: string; readonly workspace: string },
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
    if (allowedUsers !== undefined && !allowedUsers.includes(`${platform}:${userId}`)) {
      return {
        allowed: false,
        reply:
          'Sorry, I can only work for people on my allowlist. Ask an admin to add you to ALLOWED_USERS.',
      };
    }
    return { allowed: true };
  }

  private withinRate(platform: string, userId: string): AccessDecision {
    const { userRatePerMinute } = this.policy;
    if (userRatePerMinute > 0) {
      const key = `${platform}:${userId}`;
      const now = this.now();
      const times = (this.recent.get(key) ?? []).filter((t) => now - t < 60_000);
      if (times.length >= userRatePerMinute) {
        const waitS = Math.ceil((60_000 - (now - (times[0] ?? now))) / 1000);
        this.recent.set(key, times);
        return {
          allowed: false,
          reply: `You have sent ${userRatePerMinute} requests in the last minute, my limit per person. Please try again in ${waitS} s.`,
        };
      }
      times.push(now);
      this.recent.set(key, times);
    }
    return { allowed: true };
  }
}
