import { convertIndexedToRgb, decode } from 'fast-png';

/** A decoded image whose pixels a test reads as RGB, whatever colour type the PNG used. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  rgbAt(x: number, y: number): [number, number, number];
}

/**
 * Decodes any 8-bit PNG a cell may write (RGB, RGBA, grey, palette: Pillow picks the colour
 * type from the image's mode, and a model may hand back any of them).
 */
export function readPng(bytes: Buffer): RgbImage {
  const png = decode(bytes);
  if (png.depth !== 8) throw new Error(`expected an 8-bit PNG, got depth ${png.depth}`);
  const data = png.palette === undefined ? png.data : convertIndexedToRgb(png);
  const channels = png.palette === undefined ? png.channels : png.transparency ? 4 : 3;
  return {
    width: png.width,
    height: png.height,
    rgbAt(x, y) {
      if (x < 0 || y < 0 || x >= png.width || y >= png.height)
        throw new Error(`(${x}, ${y}) is outside ${png.width}x${png.height}`);
      const i = (y * png.width + x) * channels;
      // Grey (1 or 2 channels) repeats its one value; RGB(A) reads the first three.
      if (channels < 3) return [data[i] ?? 0, data[i] ?? 0, data[i] ?? 0];
      return [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0];
    },
  };
}

/** What a GIF says about itself without decoding its pixels (no GIF decoder is a dependency). */
export interface GifSummary {
  readonly width: number;
  readonly height: number;
  /** Image descriptors: one per frame. */
  readonly frames: number;
  /** Each frame's delay from its Graphic Control Extension, in hundredths of a second. */
  readonly delaysCs: readonly number[];
  /** The NETSCAPE2.0 loop count (0 = forever), or undefined when the GIF plays once. */
  readonly loopCount: number | undefined;
}

/** Walks a GIF's blocks (GIF89a spec): header, screen, colour table, then blocks to the trailer. */
export function summarizeGif(bytes: Buffer): GifSummary {
  const signature = bytes.toString('ascii', 0, 6);
  if (signature !== 'GIF87a' && signature !== 'GIF89a') throw new Error('not a GIF');
  const width = bytes.readUInt16LE(6);
  const height = bytes.readUInt16LE(8);
  const tableBytes = (flags: number) => ((flags & 0x80) !== 0 ? 3 * 2 ** ((flags & 0x07) + 1) : 0);
  let offset = 13 + tableBytes(bytes[10] ?? 0);
  /** Skips data sub-blocks (length-prefixed, ended by a zero length); returns their bytes. */
  const subBlocks = (): Buffer => {
    const parts: Buffer[] = [];
    for (let size = bytes[offset] ?? 0; size !== 0; size = bytes[offset] ?? 0) {
      parts.push(bytes.subarray(offset + 1, offset + 1 + size));
      offset += 1 + size;
    }
    offset += 1;
    return Buffer.concat(parts);
  };
  let frames = 0;
  const delaysCs: number[] = [];
  let loopCount: number | undefined;
  for (;;) {
    const introducer = bytes[offset];
    if (introducer === 0x3b) break;
    if (introducer === 0x2c) {
      frames += 1;
      offset += 10 + tableBytes(bytes[offset + 9] ?? 0) + 1; // descriptor, table, LZW code size
      subBlocks();
    } else if (introducer === 0x21) {
      const label = bytes[offset + 1];
      offset += 2;
      const body = subBlocks();
      if (label === 0xf9) delaysCs.push(body.readUInt16LE(1));
      if (label === 0xff && body.toString('ascii', 0, 11) === 'NETSCAPE2.0')
        loopCount = body.readUInt16LE(12);
    } else {
      throw new Error(`unexpected GIF block 0x${(introducer ?? 0).toString(16)} at ${offset}`);
    }
  }
  return { width, height, frames, delaysCs, loopCount };
}
