/**
 * "Invert the right half of this image", as a user asks it on Slack: a photo attached to a
 * mention, the model's Python run in the real sandbox, and the picture back in the thread with
 * its right half inverted and its left half untouched, pixel for pixel. The real Bolt app
 * against the fake Slack, the real core and Docker, the scripted fake model.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai-server.ts';
import { startSlackBot, type SlackBot } from '../fakes/fake-slack-harness.ts';
import { appMention } from '../fakes/fake-slack-payloads.ts';
import { readPng, type RgbImage } from '../support/image-files.ts';
import { encodePng } from '../support/png.ts';

const services = inject('services');
const ANA = 'U0ANA';

/** The Python a model writes for the request: numpy on the pixels, saved and shown. */
const INVERT_RIGHT_HALF = [
  'import numpy as np',
  'from PIL import Image',
  '',
  'img = Image.open("/mnt/data/photo.png").convert("RGB")',
  'pixels = np.array(img)',
  'w = pixels.shape[1]',
  'pixels[:, w // 2 :] = 255 - pixels[:, w // 2 :]',
  'result = Image.fromarray(pixels)',
  'result.save("/mnt/data/photo-inverted.png")',
  'result',
].join('\n');

describe.skipIf(services.sandboxImage === undefined)('an image edited on request', () => {
  let openai: FakeOpenAI;
  let bot: SlackBot;

  beforeAll(async () => {
    openai = await startFakeOpenAI();
    bot = await startSlackBot({
      transport: 'socket',
      embeddedWorkerId: `e2e-image-recipes-${process.pid}`,
      env: {
        OPENAI_BASE_URL: openai.baseUrl,
        OPENAI_API_KEY: 'test',
        OPENAI_MODEL: 'fake-model',
      },
    });
    bot.slack.workspace.users.set(ANA, 'ana');
  });

  afterAll(async () => {
    await bot.close();
    await openai.close();
  });

  it('answers "invert the right half of this image" with the image, right half inverted', async () => {
    // A photo-like input: every pixel different, so a misplaced split or a shifted half shows.
    const width = 64;
    const height = 40;
    const rgb = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y += 1)
      for (let x = 0; x < width; x += 1)
        rgb.set([x * 4, y * 6, (x * 7 + y * 3) % 256], (y * width + x) * 3);
    const original = { width, height, rgb };
    const channel = 'C0PHOTOS';
    const photo = bot.slack.addFile('photo.png', encodePng(original), 'image/png');
    const mention = {
      channel,
      user: ANA,
      ts: bot.slack.workspace.nextTs(),
      text: `<@${bot.slack.ids.botUserId}> invert the right half of this image`,
      files: [photo],
    };
    openai.script(
      {
        kind: 'tool',
        calls: [{ name: 'python', arguments: JSON.stringify({ code: INVERT_RIGHT_HALF }) }],
      },
      { kind: 'text', text: 'Here it is: the right half inverted, the left half as it was.' },
    );

    await bot.slack.sendEvent(appMention(bot.slack.ids, mention));
    await bot.waitForMessage(channel, mention.ts, /right half inverted/);

    // The model was told where the photo is, and the cell found it there.
    const asked = JSON.stringify(openai.requests.at(0)?.body.messages);
    expect(asked).toContain('invert the right half of this image');
    expect(asked).toContain('[attached: /mnt/data/photo.png');

    // The thread got the picture back twice: shown (the cell's last value) and as the saved file.
    const uploaded = (name: string) =>
      bot.slack.waitFor(() => {
        const message = bot
          .messagesIn(channel, mention.ts)
          .find((m) => m.files.some((f) => f.name === name));
        const file = message?.files.find((f) => f.name === name);
        return file === undefined ? undefined : bot.slack.workspace.uploads.get(file.id)?.bytes;
      }, `${name} uploaded to the thread`);
    const results: [string, RgbImage][] = [
      ['plot-1.png', readPng(await uploaded('plot-1.png'))],
      ['photo-inverted.png', readPng(await uploaded('photo-inverted.png'))],
    ];

    const at = (x: number, y: number) => {
      const i = (y * width + x) * 3;
      return [rgb[i] ?? 0, rgb[i + 1] ?? 0, rgb[i + 2] ?? 0];
    };
    for (const [name, result] of results) {
      expect([result.width, result.height], name).toEqual([width, height]);
      for (let y = 0; y < height; y += 1) {
        for (let x = 0; x < width; x += 1) {
          const expected = x < width / 2 ? at(x, y) : at(x, y).map((v) => 255 - v);
          expect(result.rgbAt(x, y), `${name} at (${x}, ${y})`).toEqual(expected);
        }
      }
    }
  });
});
