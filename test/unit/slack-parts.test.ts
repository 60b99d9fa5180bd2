import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { boltLogger } from '../../adapters/slack/bolt-logger.ts';
import { EditBudget } from '../../adapters/slack/edit-budget.ts';
import { memoryRateLimiters } from '../../src/core/sliding-window-limiter.ts';
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

  it('shows code blocks without their language tag, escaped', () => {
    expect(markdownToMrkdwn('Output:\n\n```python\nprint("<x>" & 1)\n```')).toBe(
      'Output:\n\n```\nprint("&lt;x&gt;" &amp; 1)\n```',
    );
    expect(markdownToMrkdwn('~~~\n```\n~~~')).toBe('```\n```\n```');
  });

  it('turns headings into bold lines and lists into bullets', () => {
    expect(markdownToMrkdwn('## Result **now**\n\n- one\n- two\n  - *deep*\n\n3. three')).toBe(
      '*Result now*\n\n• one\n• two\n   • _deep_\n\n3. three',
    );
  });

  it('lines up a table in a monospaced block', () => {
    expect(markdownToMrkdwn('| month | revenue |\n|---|--:|\n| 1 | 3 |')).toBe(
      '```\nmonth | revenue\n------|--------\n1     | 3\n```',
    );
  });

  it('links images and leaves other links, HTML and relative paths as text', () => {
    expect(
      markdownToMrkdwn('![plot](https://example.com/p.png) [data](/mnt/data/x.csv) <b>hi</b>'),
    ).toBe('<https://example.com/p.png|plot> [data](/mnt/data/x.csv) &lt;b&gt;hi&lt;/b&gt;');
  });

  it('keeps text nested thousands deep, as text', () => {
    const out = markdownToMrkdwn(`${'> '.repeat(5000)}deep end`);
    expect(out).toMatch(/^> (&gt; )+deep end$/);
  });
});

describe('the Slack edit budget', () => {
  it('allows its edits per minute across all status messages, then refuses until the window moves', async () => {
    let nowMs = 0;
    const budget = new EditBudget({ perMinute: 3, limiters: memoryRateLimiters(() => nowMs) });
    const taken: boolean[] = [];
    for (nowMs = 0; nowMs <= 30; nowMs += 10) taken.push(await budget.take());
    expect(taken).toEqual([true, true, true, false]);
    nowMs = 60_001;
    expect(await budget.take()).toBe(true);
  });
});

describe('the Bolt log bridge', () => {
  it('never throws on what Bolt hands it, and formats nothing below the level', () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const bolt = boltLogger(logger);
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    expect(() => bolt.info('socket', circular, new Error('boom'), undefined)).not.toThrow();
    bolt.debug('not shown', circular);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('socket [object Object] boom undefined');
  });
});
