import { describe, expect, it } from 'vitest';
import type { Reply, ReplyAttachment } from '../../src/core/reply.ts';
import { renderReply, type RenderLimits } from '../../src/render/render-reply.ts';

const MB = 1024 * 1024;
const DISCORD: RenderLimits = {
  maxMessageChars: 2000,
  maxMessages: 5,
  maxFilesPerMessage: 10,
  maxFileBytes: 8 * MB,
};

function reply(parts: Partial<Reply>): Reply {
  return { text: '', code: [], images: [], files: [], notices: [], ...parts };
}

function attachment(name: string, bytes: number, mime = 'image/png'): ReplyAttachment {
  return { name, content: Buffer.alloc(bytes), mime };
}

function paragraphs(chars: number): string {
  const sentence = 'The quick brown fox jumps over the lazy dog. ';
  const out: string[] = [];
  for (let i = 0; out.join('\n\n').length < chars; i++) out.push(`${i}: ${sentence.repeat(4)}`);
  return out.join('\n\n').slice(0, chars).trim();
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const FENCE_LINE = /^(`{3,})(.*)$/;
/** Whether a message leaves a fence open, by the CommonMark rule the platforms follow. */
function leavesFenceOpen(text: string): boolean {
  let open: string | undefined;
  for (const line of text.split('\n')) {
    const [, marker = '', info = ''] = FENCE_LINE.exec(line) ?? [];
    if (marker === '') continue;
    if (open === undefined) open = marker;
    else if (marker.length >= open.length && info.trim() === '') open = undefined;
  }
  return open !== undefined;
}
const contentLines = (text: string) =>
  text.split('\n').filter((l) => l.trim() !== '' && !FENCE_LINE.test(l));

describe('renderReply splitting', () => {
  it('splits a 3,000-character answer into messages of at most 2,000 at a paragraph break', () => {
    const text = paragraphs(3000);
    const messages = renderReply(reply({ text }), DISCORD);
    expect(messages).toHaveLength(2);
    for (const m of messages) expect(m.text.length).toBeLessThanOrEqual(2000);
    expect(messages.map((m) => m.text).join('')).toBe(text);
    expect(messages[0]?.text.endsWith('\n\n')).toBe(true);
  });

  it('closes a fence at the split and reopens it with its language', () => {
    const code = Array.from({ length: 200 }, (_, i) => `const value${i} = ${i};`).join('\n');
    const text = `Here is the script:\n\n\`\`\`ts\n${code}\n\`\`\`\n\nThat is all.`;
    const messages = renderReply(reply({ text }), DISCORD);
    expect(messages.length).toBeGreaterThan(1);
    expect(messages[0]?.text.endsWith('\n```')).toBe(true);
    expect(messages[1]?.text.startsWith('```ts\n')).toBe(true);
    for (const m of messages) {
      expect(m.text.length).toBeLessThanOrEqual(2000);
      expect(leavesFenceOpen(m.text)).toBe(false);
    }
    expect(messages.flatMap((m) => contentLines(m.text))).toEqual(contentLines(text));
  });

  it('reopens a tilde fence with tildes, and a backtick line inside it is only code', () => {
    const code = Array.from({ length: 200 }, (_, i) =>
      i % 50 === 0 ? '```' : `line ${i} of a Markdown example`,
    );
    const text = `~~~~md\n${code.join('\n')}\n~~~~\n\nAfter.`;
    const messages = renderReply(reply({ text }), DISCORD);
    expect(messages.length).toBeGreaterThan(1);
    expect(messages[0]?.text.endsWith('\n~~~~')).toBe(true);
    expect(messages[1]?.text.startsWith('~~~~md\n')).toBe(true);
    expect(messages.at(-1)?.text.endsWith('~~~~\n\nAfter.')).toBe(true);
  });

  it('does not break an emoji at a hard cut', () => {
    const text = `${'a'.repeat(1999)}👍🏽${'b'.repeat(100)}`;
    const messages = renderReply(reply({ text }), DISCORD);
    expect(messages.map((m) => m.text)).toEqual(['a'.repeat(1999), `👍🏽${'b'.repeat(100)}`]);

    const faces = '😀'.repeat(1500);
    const split = renderReply(reply({ text: faces }), DISCORD);
    for (const m of split) expect(m.text).not.toMatch(LONE_SURROGATE);
    expect(split.map((m) => m.text).join('')).toBe(faces);
  });

  it('posts the start of a huge answer and attaches the whole of it as reply.md', () => {
    const text = paragraphs(20_000);
    const messages = renderReply(reply({ text }), { ...DISCORD, maxMessages: 3 });
    expect(messages).toHaveLength(3);
    for (const m of messages) expect(m.text.length).toBeLessThanOrEqual(2000);
    const last = messages[2];
    expect(last?.text.endsWith('\n… (continued in reply.md)')).toBe(true);
    expect(last?.attachments.map((a) => a.name)).toEqual(['reply.md']);
    expect(last?.attachments[0]?.content.toString()).toBe(text);
    expect(last?.attachments[0]?.mime).toBe('text/markdown');
  });

  it('says so when even reply.md is over the upload limit', () => {
    const text = paragraphs(20_000);
    const messages = renderReply(reply({ text }), {
      ...DISCORD,
      maxMessages: 1,
      maxFileBytes: 10 * 1024,
    });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.text).toMatch(
      /… \(truncated: the full reply is 20 KB, over the 10 KB upload limit\)$/,
    );
    expect(messages[0]?.attachments).toEqual([]);
  });
});

describe('renderReply sections and attachments', () => {
  it('puts the text first, then the code that ran, then notices', () => {
    const messages = renderReply(
      reply({
        text: 'The mean is 3.',
        code: ['x = [1, 2, 3, 4, 5]\nsum(x) / len(x)\n'],
        notices: ['Kernel restarted'],
      }),
      DISCORD,
    );
    expect(messages).toEqual([
      {
        text: 'The mean is 3.\n\n```python\nx = [1, 2, 3, 4, 5]\nsum(x) / len(x)\n```\n\n⚠️ Kernel restarted',
        attachments: [],
      },
    ]);
  });

  it('groups 12 images into messages of 10 and 2 after the text', () => {
    const images = Array.from({ length: 12 }, (_, i) => attachment(`plot-${i}.png`, 100));
    const messages = renderReply(reply({ text: 'Plots:', images }), DISCORD);
    expect(messages.map((m) => [m.text, m.attachments.length])).toEqual([
      ['Plots:', 10],
      ['', 2],
    ]);
    expect(messages.flatMap((m) => m.attachments)).toEqual(images);
  });

  it('keeps the files of one message within the upload limit together', () => {
    const images = [attachment('a.png', 6), attachment('b.png', 6), attachment('c.png', 3)];
    const messages = renderReply(reply({ text: 'Plots:', images }), {
      ...DISCORD,
      maxFileBytes: 10,
    });
    expect(messages.map((m) => m.attachments.map((a) => a.name))).toEqual([
      ['a.png'],
      ['b.png', 'c.png'],
    ]);
  });

  it('puts images before files', () => {
    const files = [attachment('data.csv', 10, 'text/csv')];
    const images = [attachment('plot.png', 10)];
    const [message] = renderReply(reply({ files, images }), DISCORD);
    expect(message).toEqual({ text: '', attachments: [...images, ...files] });
  });

  it('drops an oversized file with a notice', () => {
    const files = [
      attachment('big.csv', 9 * MB, 'text/csv'),
      attachment('small.csv', 5222, 'text/csv'),
    ];
    const messages = renderReply(reply({ text: 'Done.', files }), DISCORD);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.text).toBe(
      'Done.\n\n⚠️ big.csv (9.0 MB) is over the 8.0 MB upload limit and was not attached',
    );
    expect(messages[0]?.attachments.map((a) => a.name)).toEqual(['small.csv']);
  });

  it('truncates long code and attaches it whole as code.py', () => {
    const long = Array.from({ length: 500 }, (_, i) => `print(${i})`).join('\n');
    const messages = renderReply(reply({ text: 'Ran it.', code: ['import os', long] }), DISCORD);
    const text = messages.map((m) => m.text).join('');
    const more = /\n```\n… \((\d+) more lines\)/.exec(text);
    expect(more).not.toBeNull();
    const shown = text.split('\n').filter((l) => l.startsWith('print(')).length;
    expect(shown + Number(more?.[1])).toBe(500);
    for (const m of messages) expect(m.text.length).toBeLessThanOrEqual(2000);
    const codePy = messages.flatMap((m) => m.attachments).find((a) => a.name === 'code.py');
    expect(codePy?.content.toString()).toBe(
      `# --- cell 1 ---\nimport os\n\n# --- cell 2 ---\n${long}\n`,
    );
  });

  it('attaches a single truncated cell as plain code.py', () => {
    const long = 'x = 1\n'.repeat(1000).trimEnd();
    const messages = renderReply(reply({ code: [long] }), DISCORD);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.text.length).toBeLessThanOrEqual(2000);
    expect(messages[0]?.attachments[0]?.content.toString()).toBe(`${long}\n`);
  });

  it('answers an empty reply with "(no output)"', () => {
    expect(renderReply(reply({}), DISCORD)).toEqual([{ text: '(no output)', attachments: [] }]);
    expect(renderReply(reply({ text: ' \n', code: ['\n'], notices: [''] }), DISCORD)).toEqual([
      { text: '(no output)', attachments: [] },
    ]);
  });

  it('rejects limits it cannot honour', () => {
    expect(() => renderReply(reply({}), { ...DISCORD, maxMessageChars: 50 })).toThrow(RangeError);
    expect(() => renderReply(reply({}), { ...DISCORD, maxFilesPerMessage: 0 })).toThrow(RangeError);
  });
});

/** mulberry32: a small seeded PRNG so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomText(random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const words = ['alpha', 'beta', 'γάμμα', '😀', '👍🏽', '🇫🇷', 'x'.repeat(300), 'é', '`code`'];
  const parts: string[] = [];
  const count = Math.floor(random() * 400);
  for (let i = 0; i < count; i++) {
    const roll = random();
    if (roll < 0.05) {
      const lines = Array.from({ length: Math.floor(random() * 80) }, () => pick(words));
      parts.push(`\n\`\`\`${pick(['', 'python', 'ts'])}\n${lines.join('\n')}\n\`\`\`\n`);
    } else if (roll < 0.15) parts.push(pick(['\n', '\n\n']));
    else parts.push(pick(words), pick([' ', ' ', '', '\n']));
  }
  return parts.join('');
}

describe('renderReply on random texts', () => {
  it('keeps every message within the limits', () => {
    const random = prng(20240601);
    for (let run = 0; run < 300; run++) {
      const text = randomText(random);
      const limits: RenderLimits = {
        ...DISCORD,
        maxMessageChars: 200 + Math.floor(random() * 2300),
        maxMessages: 1 + Math.floor(random() * 6),
      };
      const code = random() < 0.3 ? [randomText(random), 'print(1)'] : [];
      const messages = renderReply(reply({ text, code }), limits);
      expect(messages.length).toBeGreaterThan(0);
      expect(messages.length).toBeLessThanOrEqual(limits.maxMessages);
      for (const m of messages) {
        expect(m.text.length).toBeLessThanOrEqual(limits.maxMessageChars);
        expect(m.text).not.toMatch(LONE_SURROGATE);
        expect(leavesFenceOpen(m.text)).toBe(false);
        expect(m.text !== '' || m.attachments.length > 0).toBe(true);
      }
      const overflowed = messages.some((m) => m.attachments.some((a) => a.name === 'reply.md'));
      if (!overflowed && code.length === 0 && !text.includes('```') && text.trim() !== '') {
        expect(messages.map((m) => m.text).join('')).toBe(text.trim());
      }
    }
  });
});
