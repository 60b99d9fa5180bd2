import { decode as decodePngFile, encode as encodePngFile, convertIndexedToRgb } from 'fast-png';
import { imageSize } from 'image-size';
import { decode as decodeJpegFile, encode as encodeJpegFile } from 'jpeg-js';

/** Longest side of an image the model is given; larger ones are downscaled to it. */
export const MAX_IMAGE_SIDE_PX = 1024;
/** An image is sent as it is only up to this size (within the side bound too). */
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024;
/**
 * Larger images are not decoded: decoding is pure JavaScript (memory-safe, in a worker
 * thread), but it holds every pixel. 40 MP is a large phone photo.
 */
const MAX_DECODE_MEGAPIXELS = 40;
const JPEG_QUALITY = 85;

/** The mime types a vision model takes (Chat Completions: png, jpeg, gif, webp). */
export const VISION_MIME_TYPES: ReadonlySet<string> = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
]);

export type ImageInput =
  | { readonly url: string; readonly widthPx: number; readonly heightPx: number }
  | { readonly skipped: string };

const MIME_BY_TYPE: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
};

/**
 * An image as a data URL a vision model accepts: as it is when already within the bounds,
 * else downscaled to MAX_IMAGE_SIDE_PX (PNG and JPEG; a large GIF or WebP is skipped, with
 * the reason). The format is read from the bytes, never taken from the name or mime type.
 * Decoding is slow for a photo (seconds for 12 MP): the bot calls this in a worker thread
 * (image-input-thread.ts) whenever `imageInputWithoutDecoding` cannot answer.
 */
export function toImageInput(bytes: Uint8Array): ImageInput {
  const quick = imageInputWithoutDecoding(bytes);
  if (quick !== undefined) return quick;
  const { width, height, type } = imageSize(bytes);
  try {
    const rgb = type === 'png' ? decodePng(bytes) : decodeJpeg(bytes);
    const small = downscale(rgb, MAX_IMAGE_SIDE_PX);
    // Plots stay PNG (sharp text) unless a photo-like PNG would be too big that way.
    const png = type === 'png' ? encodePngFile({ ...small, channels: 3, depth: 8 }) : undefined;
    const out =
      png !== undefined && png.length <= MAX_IMAGE_BYTES
        ? { mime: 'image/png', bytes: png }
        : { mime: 'image/jpeg', bytes: encodeJpeg(small) };
    return { url: dataUrl(out.mime, out.bytes), widthPx: small.width, heightPx: small.height };
  } catch {
    return { skipped: `the ${width}x${height} ${type ?? 'image'} could not be decoded` };
  }
}

/**
 * The answer when no pixel has to be decoded (the image is small enough to send as it is,
 * or is skipped); undefined when it has to be decoded and downscaled.
 */
export function imageInputWithoutDecoding(bytes: Uint8Array): ImageInput | undefined {
  let size: { width: number; height: number; type?: string | undefined };
  try {
    size = imageSize(bytes);
  } catch {
    return { skipped: 'not a readable image' };
  }
  const mime = MIME_BY_TYPE[size.type ?? ''];
  if (mime === undefined) return { skipped: `a ${size.type ?? 'unknown'} image` };
  const { width, height } = size;
  if (Math.max(width, height) <= MAX_IMAGE_SIDE_PX && bytes.length <= MAX_IMAGE_BYTES) {
    return { url: dataUrl(mime, bytes), widthPx: width, heightPx: height };
  }
  if (
    width * height > MAX_DECODE_MEGAPIXELS * 1e6 ||
    (size.type !== 'png' && size.type !== 'jpg')
  ) {
    return { skipped: `${width}x${height} ${size.type ?? ''} is too large to show` };
  }
  return undefined;
}

/** 8-bit RGB pixels, row by row. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * Area-averaging downscale so the longest side is at most `maxSidePx` (thin plot lines fade
 * instead of vanishing, as they would with nearest-neighbour). Smaller images come back as
 * they are.
 */
export function downscale(image: RgbImage, maxSidePx: number): RgbImage {
  const scale = maxSidePx / Math.max(image.width, image.height);
  if (scale >= 1) return image;
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    const y0 = Math.floor((y * image.height) / height);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * image.height) / height));
    for (let x = 0; x < width; x += 1) {
      const x0 = Math.floor((x * image.width) / width);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * image.width) / width));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sy = y0; sy < y1; sy += 1) {
        let i = (sy * image.width + x0) * 3;
        for (let sx = x0; sx < x1; sx += 1, i += 3) {
          r += image.data[i] ?? 0;
          g += image.data[i + 1] ?? 0;
          b += image.data[i + 2] ?? 0;
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const at = (y * width + x) * 3;
      data[at] = Math.round(r / n);
      data[at + 1] = Math.round(g / n);
      data[at + 2] = Math.round(b / n);
    }
  }
  return { width, height, data };
}

/** Any PNG fast-png reads, as 8-bit RGB (transparency composited onto white, like a chat). */
function decodePng(bytes: Uint8Array): RgbImage {
  const png = decodePngFile(bytes);
  const indexed = png.palette !== undefined;
  const samples = indexed ? convertIndexedToRgb(png) : png.data;
  const channels = indexed ? (png.transparency === undefined ? 3 : 4) : png.channels;
  // Sub-byte greyscale stays packed in fast-png's output; such PNGs are rare and small.
  if (!indexed && png.depth < 8) throw new Error(`unsupported PNG bit depth ${png.depth}`);
  const max = !indexed && png.depth === 16 ? 65535 : 255;
  const pixels = png.width * png.height;
  const data = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p += 1) {
    const at = p * channels;
    const grey = channels < 3;
    const alpha = channels === 2 || channels === 4 ? (samples[at + channels - 1] ?? max) / max : 1;
    for (let c = 0; c < 3; c += 1) {
      const value = (samples[at + (grey ? 0 : c)] ?? 0) / max;
      data[p * 3 + c] = Math.round((value * alpha + (1 - alpha)) * 255);
    }
  }
  return { width: png.width, height: png.height, data };
}

function decodeJpeg(bytes: Uint8Array): RgbImage {
  const jpeg = decodeJpegFile(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    maxResolutionInMP: MAX_DECODE_MEGAPIXELS,
    maxMemoryUsageInMB: 512,
  });
  return { width: jpeg.width, height: jpeg.height, data: jpeg.data };
}

function encodeJpeg(image: RgbImage): Uint8Array {
  // jpeg-js encodes RGBA.
  const rgba = new Uint8Array(image.width * image.height * 4);
  for (let p = 0, q = 0; p < image.data.length; p += 3, q += 4) {
    rgba.set(image.data.subarray(p, p + 3), q);
    rgba[q + 3] = 255;
  }
  return encodeJpegFile({ width: image.width, height: image.height, data: rgba }, JPEG_QUALITY)
    .data;
}

function dataUrl(mime: string, bytes: Uint8Array): string {
  return `data:${mime};base64,${Buffer.from(bytes).toString('base64')}`;
}
