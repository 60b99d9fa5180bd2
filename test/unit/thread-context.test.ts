import { describe, expect, it } from 'vitest';
import type { InboundAttachment } from '../../src/core/inbound-message.ts';
import {
  boundEarlierMessages,
  withEarlierFiles,
  withThreadContext,
  type EarlierMessage,
} from '../../src/conversation/thread-context.ts';

const file = (name: string, ref?: string): InboundAttachment => ({
  name,
  sizeBytes: 1,
  fetch: () => Promise.resolve(Buffer.from('x')),
  ...(ref === undefined ? {} : { ref }),
});
const said = (author: string, text: string, attachments: InboundAttachment[] = []) =>
  ({ author, text, attachments }) satisfies EarlierMessage;

describe('thread context', () => {
  it('labels each earlier message with its author, before the mention', () => {
    const earlier = boundEarlierMessages([said('Ana', 'sales are up'), said('Bo', 'by how much?')]);
    expect(withThreadContext(earlier, 'plot it')).toBe(
      'Earlier in this thread:\n[Ana] sales are up\n[Bo] by how much?\n\nplot it',
    );
  });

  it('leaves the text alone without earlier messages', () => {
    expect(withThreadContext([], 'plot it')).toBe('plot it');
  });

  it('keeps the newest messages within the count', () => {
    const many = Array.from({ length: 30 }, (_, i) => said('Ana', `m${i}`));
    const kept = boundEarlierMessages(many, { maxMessages: 3, maxChars: 1000 });
    expect(kept.map((m) => m.text)).toEqual(['m27', 'm28', 'm29']);
  });

  it('keeps a contiguous newest tail within the characters, cutting only the newest', () => {
    const messages = [said('Ana', 'a'.repeat(50)), said('Bo', 'b'.repeat(20))];
    // "[Bo] " + 20 + newline = 26; "[Ana] " + 50 does not fit in the 40 left.
    expect(boundEarlierMessages(messages, { maxMessages: 10, maxChars: 66 })).toHaveLength(1);
    const cut = boundEarlierMessages([said('Ana', 'x'.repeat(100))], {
      maxMessages: 10,
      maxChars: 20,
    });
    // "[Ana] " and the newline leave 13 characters: 12 and the ellipsis.
    expect(cut[0]?.text).toBe(`${'x'.repeat(12)}…`);
  });

  it('indents later lines and names the files of a message without text', () => {
    const kept = boundEarlierMessages([
      said('Ana', 'for x in y:\n    print(x)'),
      said('Bo', '', [file('q.csv')]),
    ]);
    expect(withThreadContext(kept, 'go')).toContain(
      '[Ana] for x in y:\n      print(x)\n[Bo] (shared q.csv)',
    );
  });

  it("adds earlier messages' files after the message's own, each once", () => {
    const earlier = [said('Ana', 'see', [file('a.csv', 'F1'), file('b.csv', 'F2')])];
    const all = withEarlierFiles(earlier, [file('b.csv', 'F2'), file('c.csv', 'F3')]);
    expect(all.map((f) => f.name)).toEqual(['b.csv', 'c.csv', 'a.csv']);
  });
});
