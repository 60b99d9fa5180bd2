import { describe, expect, it } from 'vitest';
import { AccessPolicy } from '../../src/conversation/access-policy.ts';
import { memoryRateLimiters } from '../../src/core/sliding-window-limiter.ts';

const open = { allowedUsers: undefined, allowedChannels: undefined, userRatePerMinute: 0 };

describe('access policy', () => {
  it('lets everyone in everywhere when nothing is configured', async () => {
    expect(
      await new AccessPolicy(open).check('slack', 'U1', { channel: 'C1', workspace: 'W' }),
    ).toEqual({
      allowed: true,
    });
  });

  it('refuses politely outside the channel (or workspace) allowlist, per platform', async () => {
    const policy = new AccessPolicy({ ...open, allowedChannels: ['slack:C1', 'slack:T1'] });
    expect((await policy.check('slack', 'U1', { channel: 'C1', workspace: 'W' })).allowed).toBe(
      true,
    );
    expect((await policy.check('slack', 'U1', { channel: 'C9', workspace: 'T1' })).allowed).toBe(
      true,
    );
    expect((await policy.check('slack', 'U1', { channel: 'C9', workspace: 'T2' })).allowed).toBe(
      false,
    );
    expect(await policy.check('discord', 'U1', { channel: 'C1', workspace: 'W' })).toMatchObject({
      allowed: false,
      reply: expect.stringMatching(/not enabled in this channel/) as unknown,
    });
  });

  it('refuses people not on the user allowlist', async () => {
    const policy = new AccessPolicy({ ...open, allowedUsers: ['slack:U1'] });
    expect((await policy.check('slack', 'U1', { channel: 'C', workspace: 'W' })).allowed).toBe(
      true,
    );
    expect((await policy.check('slack', 'U2', { channel: 'C', workspace: 'W' })).allowed).toBe(
      false,
    );
  });

  it('admits a Discord member by a role on the allowlist, and refuses one without it', async () => {
    const policy = new AccessPolicy({
      ...open,
      allowedUsers: ['discord:111', 'discord:role:900'],
    });
    const place = { channel: 'C', workspace: 'G' };
    expect(await policy.check('discord', '222', place, ['role:900', 'role:901'])).toEqual({
      allowed: true,
    });
    // The listed person still gets in, with no roles at all (a DM).
    expect((await policy.check('discord', '111', place)).allowed).toBe(true);
    const refused = await policy.check('discord', '333', place, ['role:901']);
    expect(refused).toEqual({
      allowed: false,
      reply:
        'Sorry, I can only work for people on my allowlist. Ask an admin to add you to ALLOWED_USERS.',
    });
    // A role is named per platform: the same id on another platform is not it.
    expect((await policy.check('slack', '222', place, ['role:900'])).allowed).toBe(false);
    expect(policy.allowlisted('discord', '222', place, ['role:900'])).toEqual({ allowed: true });
  });

  it('limits each person to N messages a minute and says when to come back', async () => {
    let now = 0;
    const policy = new AccessPolicy(
      { ...open, userRatePerMinute: 2 },
      { limiters: memoryRateLimiters(() => now) },
    );
    expect((await policy.check('web', 'a', { channel: 'c', workspace: 'W' })).allowed).toBe(true);
    now = 10_000;
    expect((await policy.check('web', 'a', { channel: 'c', workspace: 'W' })).allowed).toBe(true);
    now = 20_000;
    expect(await policy.check('web', 'a', { channel: 'c', workspace: 'W' })).toEqual({
      allowed: false,
      reply:
        'You have sent 2 requests in the last minute, my limit per person. Please try again in 40 s.',
    });
    expect((await policy.check('web', 'b', { channel: 'c', workspace: 'W' })).allowed).toBe(true);
    now = 60_001;
    expect((await policy.check('web', 'a', { channel: 'c', workspace: 'W' })).allowed).toBe(true);
  });
});
