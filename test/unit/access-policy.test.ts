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
