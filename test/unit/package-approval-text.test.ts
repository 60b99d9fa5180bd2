import { describe, expect, it } from 'vitest';
import {
  onlyApproversText,
  questionText,
  refusalReason,
} from '../../src/conversation/package-approval-text.ts';

describe('package approval texts', () => {
  it('names what was asked for first, then what it pulls in', () => {
    expect(
      questionText(
        'U1',
        ['foo'],
        [
          { name: 'foo', version: '1.2' },
          { name: 'bar', version: '0.3' },
        ],
      ),
    ).toBe(
      "<@U1> wants to install foo 1.2 (and its dependency bar 0.3), which is not on this workspace's package list.",
    );
    expect(questionText('U1', ['Foo_Pkg', 'baz'], [{ name: 'foo-pkg' }, { name: 'baz' }])).toBe(
      "<@U1> wants to install foo-pkg, baz, which are not on this workspace's package list.",
    );
    // Only a dependency is off the list: it is what the question is about.
    expect(questionText('U1', ['foo'], [{ name: 'bar' }, { name: 'qux' }])).toBe(
      "<@U1> wants to install bar, qux, which are not on this workspace's package list.",
    );
  });

  it('says why an install did not happen', () => {
    const by = { id: 'U9', name: 'grace' };
    expect(refusalReason({ outcome: 'denied', by, at: 0 }, 1)).toBe('denied by <@U9>');
    expect(refusalReason({ outcome: 'denied', by, at: 0 }, 1, 'name')).toBe('denied by @grace');
    expect(refusalReason({ outcome: 'expired', at: 0 }, 30 * 60_000)).toBe(
      'no answer within 30 minutes',
    );
    expect(refusalReason({ outcome: 'expired', at: 0 }, 60_000)).toBe('no answer within 1 minute');
    expect(refusalReason({ outcome: 'cancelled', at: 0 }, 1)).toBe(
      'the request was stopped before anyone answered',
    );
  });

  it("names the platform's approvers as its mentions", () => {
    const approvers = ['slack:U1', 'slack:group:S2', 'discord:3', 'discord:role:4'];
    expect(onlyApproversText('slack', approvers)).toBe(
      'Only <@U1>, <!subteam^S2> can approve or deny package installs here.',
    );
    expect(onlyApproversText('discord', approvers)).toBe(
      'Only <@3>, <@&4> can approve or deny package installs here.',
    );
    expect(onlyApproversText('web', approvers)).toBe(
      'Only the package approvers can approve or deny package installs here.',
    );
  });
});
