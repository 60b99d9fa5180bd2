import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { SYSTEM_PROMPT } from '../../src/agent/system-prompt.ts';
import { VisionMemory } from '../../src/agent/vision-support.ts';
import { VisionTurn } from '../../src/agent/vision-turn.ts';
import type { BlobRef } from '../../src/core/blob-store.ts';
import type { VisionMode } from '../../src/core/config.ts';
import { encodePng } from '../support/png.ts';

// Never called: modes `on` and `off` send no probe.
const client = new OpenAI({ apiKey: 'test', baseURL: 'http://127.0.0.1:9/v1' });
const png = encodePng({ width: 2, height: 2, rgb: new Uint8Array(12).fill(9) });
const image = (id: string): BlobRef => ({
  id,
  name: `${id}.png`,
  sizeBytes: png.length,
  mime: 'image/png',
});

function turn(mode: VisionMode, attached: BlobRef[] = []) {
  const signal = new AbortController().signal;
  const options = { mode, attached, memory: new VisionMemory(), read: () => Promise.resolve(png) };
  return VisionTurn.start(options, client, 'some-model', signal);
}

const imageCount = (message: ChatCompletionMessageParam | undefined): number =>
  Array.isArray(message?.content)
    ? message.content.filter((part) => part.type === 'image_url').length
    : 0;

describe("a turn's images", () => {
  it('sends at most four per request, the newest; older ones stay text', async () => {
    const vision = await turn('on');
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'plot three times' }];
    for (const cell of ['a', 'b', 'c']) {
      const shown = vision.cellImages([image(`${cell}1`), image(`${cell}2`)]);
      if (shown !== undefined) messages.push(shown);
    }
    const sent = await vision.request(messages);
    expect(sent.map(imageCount)).toEqual([0, 0, 2, 2]);
    expect(sent[1]).toBe(messages[1]);
    expect(messages.every((m) => typeof m.content === 'string')).toBe(true);
  });

  it('with vision off, adds nothing and changes nothing', async () => {
    const vision = await turn('off', [image('photo')]);
    const user = vision.withAttachments({ role: 'user', content: 'look' });
    expect(vision.cellImages([image('plot')])).toBeUndefined();
    expect(await vision.request([user])).toEqual([{ role: 'user', content: 'look' }]);
    expect(vision.systemPrompt()).toBe(SYSTEM_PROMPT);
  });

  it('names an image it will not show, and shows the rest', async () => {
    const options = {
      mode: 'on' as const,
      attached: [image('gone'), image('kept')],
      memory: new VisionMemory(),
      read: (id: string) => Promise.resolve(id === 'gone' ? undefined : png),
    };
    const vision = await VisionTurn.start(options, client, 'm', new AbortController().signal);
    const [sent] = await vision.request([
      vision.withAttachments({ role: 'user', content: 'look' }),
    ]);
    expect(sent?.content).toEqual([
      { type: 'text', text: 'look' },
      { type: 'text', text: '[image 1 not shown: it is no longer stored]' },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } },
    ]);
  });
});
