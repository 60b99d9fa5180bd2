import { describe, expect, it } from 'vitest';
import { EditBudget } from '../../adapters/slack/edit-budget.ts';
import { markdownToMrkdwn } from '../../adapters/slack/mrkdwn.ts';

describe('Markdown to Slack mrkdwn', () => {
  it('converts bold, italics and web links', () => {
    expect(markdownToMrkdwn('**Revenue** rose, see [docs](https://example.com/a|b)')).toBe(
      '*Revenue* rose, see <https://example.com/a%7Cb|docs>',
    );
  });

  it('never turns model output into a mention or a channel-wide ping', () => {
    const hostile = [
      '[x](!channel)',
      '[x](!everyone)',
      '[x](@U123ABC)',
      '[x](#C123)',
      '<!channel> <@U123ABC> <!here>',
    ].join('\n');
    const out = markdownToMrkdwn(hostile);
    expect(out).not.toMatch(/<[!@#]/);
    expect(out).toContain('&lt;!channel&gt;');
  });

  it('keeps inline code verbatim, only escaped', () => {
    expect(markdownToMrkdwn('run `a < b and **c**`')).toBe('run `a &lt; b and **c**`');
  });
});

describe('the Slack edit budget', () => {
  it('allows its edits per minute across all status messages, then refuses until the window moves', () => {
    const budget = new EditBudget(3);
    expect([budget.take(0), budget.take(10), budget.take(20), budget.take(30)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(budget.take(60_001)).toBe(true);
  });
});
