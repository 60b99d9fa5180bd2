import { describe, expect, it } from 'vitest';
import { StreamMarkdown } from '../../adapters/slack/stream-markdown.ts';

/** What a person sees once every piece has arrived. */
function streamed(pieces: readonly string[]): { sent: string[]; total: string } {
  const markdown = new StreamMarkdown();
  const sent = pieces.map((piece) => markdown.push(piece));
  sent.push(markdown.flush());
  return { sent, total: sent.join('') };
}

describe("a streamed answer's Markdown on Slack", () => {
  it('passes ordinary text through as it comes', () => {
    const { sent } = streamed(['The total ', 'is **42**.']);
    expect(sent).toEqual(['The total ', 'is **42**.', '']);
  });

  it('never forms a mention or special sequence, however the pieces are cut', () => {
    const { total } = streamed(['Hey <!chan', 'nel> and <@U0', 'ANA>, see <https://x.y|here>']);
    expect(total).not.toMatch(/<[!@#]/);
    expect(total).not.toMatch(/<https/);
    expect(total.replaceAll('\u200B', '')).toBe(
      'Hey <!channel> and <@U0ANA>, see <https://x.y|here>',
    );
  });

  it('keeps web links, shows other links as their label, and holds a link until it is whole', () => {
    const { sent, total } = streamed([
      'See [docs](https://exa',
      'mple.com/docs) and [click](java',
      'script:alert(1)) or [mail](mailto:a@b.c).',
    ]);
    expect(total).toBe('See [docs](https://example.com/docs) and click or [mail](mailto:a@b.c).');
    // The half-written link was not sent in the first piece.
    expect(sent[0]).toBe('See ');
  });

  it('lets a bracket that is not a link go once it is clearly not one', () => {
    const { sent } = streamed(['array[0', '] = 1\n', 'done']);
    expect(sent.join('')).toBe('array[0] = 1\ndone');
    expect(sent.slice(0, 2)).toEqual(['array', '[0] = 1\n']);
  });
});
