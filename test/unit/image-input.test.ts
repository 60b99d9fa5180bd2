import { encode as encodeJpeg, decode as decodeJpeg } from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import {
  downscale,
  MAX_IMAGE_BYTES,
  MAX_IMAGE_SIDE_PX,
  toImageInput,
} from '../../src/agent/image-input.ts';
import { imageInputOffThread } from '../../src/agent/image-input-thread.ts';
import { decodePng, encodePng, pixel } from '../support/png.ts';

function solid(width: number, height: number, rgb: [number, number, number]) {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { width, height, rgb: data };
}

function bytesOf(url: string, mime: string): Buffer {
  expect(url.startsWith(`data:${mime};base64,`)).toBe(true);
  return Buffer.from(url.slice(`data:${mime};base64,`.length), 'base64');
}

describe('images given to a vision model', () => {
  it('sends a small image as it is', () => {
    const png = encodePng(solid(64, 32, [10, 200, 30]));
    const input = toImageInput(png);
    if (!('url' in input)) throw new Error(input.skipped);
    expect(bytesOf(input.url, 'image/png').equals(png)).toBe(true);
    expect([input.widthPx, input.heightPx]).toEqual([64, 32]);
  });

  it('downscales a large PNG so its longest side is the bound, keeping its colours', () => {
    const input = toImageInput(encodePng(solid(3000, 1500, [200, 10, 10])));
    if (!('url' in input)) throw new Error(input.skipped);
    const out = decodePng(bytesOf(input.url, 'image/png'));
    expect([out.width, out.height]).toEqual([MAX_IMAGE_SIDE_PX, MAX_IMAGE_SIDE_PX / 2]);
    expect(pixel(out, 100, 100)).toEqual([200, 10, 10]);
  });

  it('downscales a large JPEG to a JPEG within the bounds', () => {
    const { width, height } = { width: 2048, height: 1536 };
    const rgba = new Uint8Array(width * height * 4);
    for (let i = 0; i < rgba.length; i += 4) rgba.set([20, 60, 220, 255], i);
    const jpeg = encodeJpeg({ width, height, data: rgba }, 90).data;
    const input = toImageInput(jpeg);
    if (!('url' in input)) throw new Error(input.skipped);
    const bytes = bytesOf(input.url, 'image/jpeg');
    expect(bytes.length).toBeLessThanOrEqual(MAX_IMAGE_BYTES);
    const out = decodeJpeg(bytes, { useTArray: true });
    expect([out.width, out.height]).toEqual([1024, 768]);
    const [r, g, b] = out.data.subarray(0, 3);
    expect(
      Math.abs((r ?? 0) - 20) + Math.abs((g ?? 0) - 60) + Math.abs((b ?? 0) - 220),
    ).toBeLessThan(15);
  });

  it('downscales in a worker thread for the bot, with the same result', async () => {
    const png = encodePng(solid(2000, 500, [0, 0, 90]));
    const input = await imageInputOffThread(png);
    expect(input).toEqual(toImageInput(png));
    if (!('url' in input)) throw new Error(input.skipped);
    expect([input.widthPx, input.heightPx]).toEqual([1024, 256]);
  });

  it('skips what it cannot read or will not decode, saying why', () => {
    expect(toImageInput(Buffer.from('not an image at all'))).toEqual({
      skipped: 'not a readable image',
    });
    // A GIF header claiming 3000x2000: over the bound, and GIFs are not decoded.
    const gif = Buffer.concat([
      Buffer.from('GIF89a'),
      Buffer.from([0xb8, 0x0b, 0xd0, 0x07]),
      Buffer.alloc(32),
    ]);
    expect(toImageInput(gif)).toEqual({ skipped: '3000x2000 gif is too large to show' });
  });

  it('averages the pixels it folds together', () => {
    // 4x1 black and white stripes become 2x1 mid grey.
    const stripes = {
      width: 4,
      height: 1,
      data: new Uint8Array([0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255]),
    };
    const out = downscale(stripes, 2);
    expect([out.width, out.height]).toEqual([2, 1]);
    expect([...out.data]).toEqual([128, 128, 128, 128, 128, 128]);
  });
});
