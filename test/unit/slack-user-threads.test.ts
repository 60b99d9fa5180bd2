import { describe, expect, it } from 'vitest';
import { UserThreads } from '../../adapters/slack/user-threads.ts';
import { teamOfRequest } from '../../adapters/slack/workspace-revocation.ts';

describe("the Home tab's memory of each person's threads", () => {
  it('keeps the newest threads per person, bounded, a thread seen again moving to the top', () => {
    const threads = new UserThreads({ perUser: 3 });
    for (const ts of ['1.1', '1.2', '1.3', '1.4']) {
      threads.add('T1', 'U1', { channel: 'C1', threadTs: ts, title: `q ${ts}` });
    }
    threads.add('T1', 'U1', { channel: 'C1', threadTs: '1.2', title: 'asked again' });
    expect(threads.recent('T1', 'U1').map((t) => [t.threadTs, t.title])).toEqual([
      ['1.2', 'q 1.2'],
      ['1.4', 'q 1.4'],
      ['1.3', 'q 1.3'],
    ]);
    expect(threads.recent('T1', 'U2')).toEqual([]);
    expect(threads.recent('T2', 'U1')).toEqual([]);
  });

  it('forgets the least recently active person first', () => {
    const threads = new UserThreads({ users: 2 });
    threads.add('T1', 'U1', { channel: 'C1', threadTs: '1.1', title: 'a' });
    threads.add('T1', 'U2', { channel: 'C1', threadTs: '1.2', title: 'b' });
    threads.add('T1', 'U1', { channel: 'C1', threadTs: '1.3', title: 'c' });
    threads.add('T1', 'U3', { channel: 'C1', threadTs: '1.4', title: 'd' });
    expect(threads.recent('T1', 'U2')).toEqual([]);
    expect(threads.recent('T1', 'U1')).toHaveLength(2);
  });

  it('titles a thread by the first line of what was asked, shortened', () => {
    const threads = new UserThreads();
    threads.add('T1', 'U1', {
      channel: 'C1',
      threadTs: '1.1',
      title: `\n${'x'.repeat(200)}\nmore`,
    });
    threads.add('T1', 'U1', { channel: 'C1', threadTs: '1.2', title: '  ' });
    const [empty, long] = threads.recent('T1', 'U1');
    expect(long?.title).toBe(`${'x'.repeat(79)}…`);
    expect(empty?.title).toBe('(files only)');
  });

  it('knows the threads anyone in the workspace has', () => {
    const threads = new UserThreads();
    threads.add('T1', 'U1', { channel: 'C1', threadTs: '1.1', title: 'a' });
    expect(threads.knows('T1', 'C1', '1.1')).toBe(true);
    expect(threads.knows('T2', 'C1', '1.1')).toBe(false);
  });
});

describe('the workspace a Slack request comes from', () => {
  it('reads events, commands, interactions and modals', () => {
    expect(teamOfRequest({ team_id: 'T1', event: {} })).toBe('T1');
    expect(teamOfRequest({ type: 'shortcut', team: { id: 'T2' } })).toBe('T2');
    expect(teamOfRequest({ type: 'view_submission', team: null, user: { team_id: 'T3' } })).toBe(
      'T3',
    );
    expect(teamOfRequest({ type: 'x' })).toBeUndefined();
  });
});
