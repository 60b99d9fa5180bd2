import { describe, expect, it } from 'vitest';
import { formatSessionKey, parseSessionKey } from '../../src/core/session-key.ts';

describe('session keys', () => {
  it('round-trips a Slack thread', () => {
    const key = {
      platform: 'slack',
      workspace: 'T012AB',
      channel: 'C0456',
      thread: '1712345678.000100',
    };
    const text = formatSessionKey(key);
    expect(text).toBe('slack:T012AB:C0456:1712345678.000100');
    expect(parseSessionKey(text)).toEqual(key);
  });

  it.each([
    'slack:T1:C1',
    'slack:T1:C1:t:extra',
    'Slack:T1:C1:t',
    'slack::C1:t',
    'slack:T1:C1:../x',
    'slack:T1:C 1:t',
    'slack:T1:C1:t\n',
  ])('rejects %j', (text) => {
    expect(parseSessionKey(text)).toBeUndefined();
  });

  it('refuses to format a malformed key', () => {
    expect(() =>
      formatSessionKey({ platform: 'web', workspace: 'local', channel: 'a/b', thread: '1' }),
    ).toThrow(/channel/);
  });
});
