/**
 * The image requests people bring to a code interpreter, run as a model would write them in the
 * real sandbox (Pillow, numpy, scikit-image, scikit-learn from the image; no network), on
 * inputs whose answers the test knows. Each recipe hands the image back (a file in /mnt/data,
 * and a display where a picture is the answer), and the test decodes it on the host.
 * docs/images.md shows the same recipes.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CellOutcome } from '../support/cell-outcome.ts';
import { readPng, summarizeGif, type RgbImage } from '../support/image-files.ts';
import { encodePng } from '../support/png.ts';
import { run, startManager, type ManagerHarness } from '../support/sandbox.ts';

const services = inject('services');

type Rgb = readonly [number, number, number];

/** Deterministic noise (mulberry32), so the inputs and their known answers never vary. */
function noise(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Builds an RGB PNG from a colour function; returns the bytes and the pixels it holds. */
function image(width: number, height: number, colour: (x: number, y: number) => Rgb) {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y += 1)
    for (let x = 0; x < width; x += 1) rgb.set(colour(x, y), (y * width + x) * 3);
  const at = (x: number, y: number): Rgb => {
    const i = (y * width + x) * 3;
    return [rgb[i] ?? 0, rgb[i + 1] ?? 0, rgb[i + 2] ?? 0];
  };
  return { png: encodePng({ width, height, rgb }), at };
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
const distance = (a: Rgb, b: Rgb) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
const hexToRgb = (hex: string): Rgb => [
  Number.parseInt(hex.slice(1, 3), 16),
  Number.parseInt(hex.slice(3, 5), 16),
  Number.parseInt(hex.slice(5, 7), 16),
];

/** The `label #RRGGBB` a cell printed. */
function printedHex(outcome: CellOutcome, label: string): Rgb {
  const match = new RegExp(`${label}:? (#[0-9A-Fa-f]{6})`).exec(outcome.stdout);
  if (match?.[1] === undefined) throw new Error(`no "${label} #RRGGBB" in ${outcome.stdout}`);
  return hexToRgb(match[1]);
}

function fileOf(outcome: CellOutcome, path: string): Buffer {
  const file = outcome.files.find((f) => f.path === path);
  if (file === undefined) {
    const got = outcome.files.map((f) => f.path).join(', ');
    throw new Error(`${path} not among the cell's files (${got}); stderr: ${outcome.stderr}`);
  }
  return file.content;
}

/** The one image the cell displayed, decoded. */
function shownImage(outcome: CellOutcome): RgbImage {
  expect(outcome.images.map((i) => i.mime)).toEqual(['image/png']);
  return readPng(outcome.images[0]?.content ?? Buffer.alloc(0));
}

function expectOk(outcome: CellOutcome): void {
  expect(outcome.error, outcome.error?.traceback.join('\n')).toBeUndefined();
  expect(outcome.status).toBe('ok');
}

const SKY: Rgb = [0x87, 0xce, 0xeb]; // #87CEEB
const GRASS: Rgb = [0x22, 0x8b, 0x22]; // #228B22
const CLOUD: Rgb = [250, 250, 250];

/**
 * A landscape: the top third sky blue with noise and a white cloud (so the average of the sky
 * is not its dominant colour), the rest grass green with noise.
 */
function landscape() {
  const random = noise(15);
  const jitter = (c: Rgb): Rgb => [
    clamp(c[0] + (random() - 0.5) * 24),
    clamp(c[1] + (random() - 0.5) * 24),
    clamp(c[2] + (random() - 0.5) * 24),
  ];
  const width = 120;
  const height = 90;
  const inCloud = (x: number, y: number) => x >= 10 && x < 40 && y >= 8 && y < 18;
  const picture = image(width, height, (x, y) =>
    inCloud(x, y) ? CLOUD : jitter(y < height / 3 ? SKY : GRASS),
  );
  // The exact mean of the top third, as the known answer for "the average colour".
  let [r, g, b] = [0, 0, 0];
  for (let y = 0; y < height / 3; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const [pr, pg, pb] = picture.at(x, y);
      [r, g, b] = [r + pr, g + pg, b + pb];
    }
  }
  const pixels = (width * height) / 3;
  const skyMean: Rgb = [r / pixels, g / pixels, b / pixels];
  return { ...picture, width, height, skyMean };
}

describe.skipIf(services.sandboxImage === undefined)('image recipes in the sandbox', () => {
  let harness: ManagerHarness;

  beforeAll(async () => {
    // The product's default caps (1 MiB of output, 20 files, 120 s a cell): these cells show
    // images, and the first import of scikit-learn and scikit-image takes seconds on a busy host.
    harness = await startManager({
      outputLimitBytes: 1024 * 1024,
      maxFiles: 20,
      cellTimeoutMs: 120_000,
    });
  });

  afterAll(async () => {
    const leftovers = await harness.close();
    expect(leftovers).toBe(0);
  });

  describe('the dominant and the average colour of a region', () => {
    const scene = landscape();

    // The first cell to import scikit-learn and scikit-image: more time than the default 60 s.
    it(
      'k-means in CIELAB (scikit-image, scikit-learn) finds the sky colour and shows swatches',
      { timeout: 150_000 },
      async () => {
        const sandbox = harness.manager.session('recipes:kmeans');
        await sandbox.upload([{ name: 'landscape.png', content: scene.png }]);
        const outcome = await run(
          sandbox,
          [
            'import numpy as np',
            'from PIL import Image, ImageDraw',
            'from skimage.color import rgb2lab',
            'from sklearn.cluster import KMeans',
            '',
            'img = Image.open("/mnt/data/landscape.png").convert("RGB")',
            'pixels = np.asarray(img)',
            'h, w, _ = pixels.shape',
            'region = pixels[: h // 3]  # the top third: the sky',
            'flat = region.reshape(-1, 3)',
            '',
            'average = flat.mean(axis=0)',
            '# Cluster in CIELAB, where distance follows perceived difference. k-means cuts one',
            '# noisy colour into several clusters, so the clusters within ΔE 15 of the biggest',
            '# count as shades of it; the dominant colour is their median RGB.',
            'km = KMeans(n_clusters=4, n_init=4, random_state=0).fit(rgb2lab(region).reshape(-1, 3))',
            'centres = km.cluster_centers_',
            'biggest = np.bincount(km.labels_).argmax()',
            'shades = np.linalg.norm(centres - centres[biggest], axis=1) < 15',
            'chosen = np.isin(km.labels_, np.flatnonzero(shades))',
            'dominant = np.median(flat[chosen], axis=0)',
            'share = chosen.mean()',
            '',
            'def to_hex(c):',
            '    return "#{:02X}{:02X}{:02X}".format(*(int(round(v)) for v in c))',
            '',
            'print("average:", to_hex(average))',
            'print("dominant:", to_hex(dominant), f"({share:.0%} of the region)")',
            '',
            '# The answer as a picture: the image with the region outlined, and the two colours.',
            'swatch = Image.new("RGB", (w, h + 40), "white")',
            'swatch.paste(img, (0, 0))',
            'draw = ImageDraw.Draw(swatch)',
            'draw.rectangle([0, 0, w - 1, h // 3 - 1], outline="red")',
            'draw.rectangle([0, h, w // 2 - 1, h + 39], fill=tuple(int(round(v)) for v in dominant))',
            'draw.rectangle([w // 2, h, w - 1, h + 39], fill=tuple(int(round(v)) for v in average))',
            'swatch.save("/mnt/data/sky-colours.png")',
            'display(swatch)',
          ].join('\n'),
        );
        expectOk(outcome);

        const dominant = printedHex(outcome, 'dominant');
        const average = printedHex(outcome, 'average');
        expect(distance(dominant, SKY)).toBeLessThanOrEqual(3);
        expect(outcome.stdout).toContain('(92% of the region)'); // all of the sky but the cloud
        // The mean is the exact mean of the region (to rounding), pulled towards the cloud.
        expect(distance(average, scene.skyMean)).toBeLessThanOrEqual(1);
        expect(distance(average, SKY)).toBeGreaterThan(5);

        // Shown and saved: the picture, then the dominant swatch left and the average right.
        const shown = shownImage(outcome);
        const saved = readPng(fileOf(outcome, 'sky-colours.png'));
        for (const picture of [shown, saved]) {
          expect([picture.width, picture.height]).toEqual([120, 130]);
          expect(picture.rgbAt(30, 110)).toEqual(dominant);
          expect(picture.rgbAt(90, 110)).toEqual(average);
          expect(picture.rgbAt(60, 0)).toEqual([255, 0, 0]); // the region's outline
          expect(picture.rgbAt(60, 60)).toEqual(scene.at(60, 60)); // the image itself, untouched
        }
      },
    );

    it('Pillow alone (quantize a crop, take the commonest palette entry) agrees', async () => {
      const sandbox = harness.manager.session('recipes:quantize');
      await sandbox.upload([{ name: 'landscape.png', content: scene.png }]);
      const outcome = await run(
        sandbox,
        [
          'from PIL import Image, ImageStat',
          '',
          'img = Image.open("/mnt/data/landscape.png").convert("RGB")',
          'w, h = img.size',
          'sky = img.crop((0, 0, w, h // 3))',
          '',
          'average = ImageStat.Stat(sky).mean',
          '# Few colours, k-means refined: the commonest palette entry is the dominant colour.',
          'q = sky.quantize(colors=4, method=Image.Quantize.MEDIANCUT, kmeans=8)',
          'count, index = max(q.getcolors())',
          'dominant = q.getpalette()[index * 3 : index * 3 + 3]',
          '',
          'to_hex = lambda c: "#{:02X}{:02X}{:02X}".format(*(int(round(v)) for v in c))',
          'print("average:", to_hex(average))',
          'print("dominant:", to_hex(dominant))',
          'Image.new("RGB", (60, 30), tuple(dominant)).save("/mnt/data/dominant.png")',
        ].join('\n'),
      );
      expectOk(outcome);
      const dominant = printedHex(outcome, 'dominant');
      // Median cut halves the noisy sky: its commonest entry is a shade of it, not the centre.
      expect(distance(dominant, SKY)).toBeLessThanOrEqual(10);
      expect(distance(printedHex(outcome, 'average'), scene.skyMean)).toBeLessThanOrEqual(1);
      expect(readPng(fileOf(outcome, 'dominant.png')).rgbAt(30, 15)).toEqual(dominant);
    });
  });

  it('splits an image in two halves and inverts the right half', async () => {
    // Odd width: the right half is the wider one (w // 2 onwards), as the recipe says.
    const width = 65;
    const height = 48;
    const photo = image(width, height, (x, y) => [x * 3, y * 5, (x * y) % 256]);
    const sandbox = harness.manager.session('recipes:invert');
    await sandbox.upload([{ name: 'photo.png', content: photo.png }]);
    const outcome = await run(
      sandbox,
      [
        'from PIL import Image, ImageOps',
        '',
        'img = Image.open("/mnt/data/photo.png").convert("RGB")',
        'w, h = img.size',
        'left = img.crop((0, 0, w // 2, h))',
        'right = ImageOps.invert(img.crop((w // 2, 0, w, h)))',
        'left.save("/mnt/data/left.png")',
        'right.save("/mnt/data/right-inverted.png")',
        '',
        'result = img.copy()',
        'result.paste(right, (w // 2, 0))',
        'result.save("/mnt/data/photo-right-inverted.png")',
        'display(result)',
      ].join('\n'),
    );
    expectOk(outcome);

    const half = Math.floor(width / 2);
    const left = readPng(fileOf(outcome, 'left.png'));
    const right = readPng(fileOf(outcome, 'right-inverted.png'));
    expect([left.width, left.height, right.width, right.height]).toEqual([32, 48, 33, 48]);
    const inverted = (c: Rgb): Rgb => [255 - c[0], 255 - c[1], 255 - c[2]];
    for (const result of [
      readPng(fileOf(outcome, 'photo-right-inverted.png')),
      shownImage(outcome),
    ]) {
      expect([result.width, result.height]).toEqual([width, height]);
      for (let y = 0; y < height; y += 1) {
        for (let x = 0; x < width; x += 1) {
          const expected = x < half ? photo.at(x, y) : inverted(photo.at(x, y));
          expect(result.rgbAt(x, y), `pixel (${x}, ${y})`).toEqual(expected);
        }
      }
    }
    expect(left.rgbAt(31, 47)).toEqual(photo.at(31, 47));
    expect(right.rgbAt(0, 0)).toEqual(inverted(photo.at(32, 0)));
  });

  it('resizes, crops, rotates and writes text, keeping each step', async () => {
    // 240x160, a red square near the top-left corner to follow through the steps.
    const RED: Rgb = [220, 20, 20];
    const poster = image(240, 160, (x, y) =>
      x >= 20 && x < 60 && y >= 20 && y < 60 ? RED : [60 + (x >> 2), 90, 60 + (y >> 2)],
    );
    const sandbox = harness.manager.session('recipes:transform');
    await sandbox.upload([{ name: 'poster.png', content: poster.png }]);
    const outcome = await run(
      sandbox,
      [
        'from PIL import Image, ImageDraw, ImageFont',
        '',
        'img = Image.open("/mnt/data/poster.png").convert("RGB")',
        'resized = img.resize((img.width // 2, img.height // 2), Image.Resampling.LANCZOS)',
        'cropped = resized.crop((10, 10, 110, 70))  # (left, top, right, bottom)',
        'rotated = cropped.rotate(90, expand=True)  # counter-clockwise; expand keeps it all',
        '',
        'captioned = rotated.copy()',
        'draw = ImageDraw.Draw(captioned)',
        'font = ImageFont.truetype("DejaVuSans-Bold.ttf", 14)',
        'draw.text((captioned.width / 2, 4), "Draft", font=font, anchor="mt",',
        '          fill="white", stroke_width=1, stroke_fill="black")',
        'print("text box:", draw.textbbox((captioned.width / 2, 4), "Draft", font=font, anchor="mt", stroke_width=1))',
        '',
        'for name, step in [("resized", resized), ("cropped", cropped), ("rotated", rotated), ("captioned", captioned)]:',
        '    step.save(f"/mnt/data/{name}.png")',
        '    print(name, step.size)',
        'display(captioned)',
      ].join('\n'),
    );
    expectOk(outcome);
    expect(outcome.stdout).toContain(
      'resized (120, 80)\ncropped (100, 60)\nrotated (60, 100)\ncaptioned (60, 100)\n',
    );

    const step = (name: string) => readPng(fileOf(outcome, `${name}.png`));
    const resized = step('resized');
    const cropped = step('cropped');
    const rotated = step('rotated');
    const captioned = step('captioned');
    expect([resized.width, resized.height]).toEqual([120, 80]);
    expect([cropped.width, cropped.height]).toEqual([100, 60]);
    expect([rotated.width, rotated.height]).toEqual([60, 100]);
    expect([captioned.width, captioned.height]).toEqual([60, 100]);

    const near = (a: Rgb, b: Rgb) => distance(a, b) <= 6;
    // The red square: at 10..29 once halved, at 0..19 once cropped at (10, 10), and in the
    // bottom-left corner once turned a quarter counter-clockwise ((x, y) -> (y, 99 - x)).
    expect(near(resized.rgbAt(20, 20), RED)).toBe(true);
    expect(near(resized.rgbAt(40, 20), RED)).toBe(false);
    expect(near(cropped.rgbAt(10, 10), RED)).toBe(true);
    expect(near(cropped.rgbAt(30, 10), RED)).toBe(false);
    for (let y = 0; y < 100; y += 1)
      for (let x = 0; x < 60; x += 1)
        expect(rotated.rgbAt(x, y), `rotated (${x}, ${y})`).toEqual(cropped.rgbAt(99 - y, x));
    expect(near(rotated.rgbAt(10, 90), RED)).toBe(true);

    // The text changed pixels, in white and black, only in the band at the top where it went.
    const textBox = /text box: \(([\d.]+), ([\d.]+), ([\d.]+), ([\d.]+)\)/.exec(outcome.stdout);
    const [x0, y0, x1, y1] = (textBox?.slice(1) ?? []).map(Number);
    expect(y0).toBeGreaterThanOrEqual(0);
    expect(y1).toBeLessThan(30);
    let changed = 0;
    let white = 0;
    for (let y = 0; y < 100; y += 1) {
      for (let x = 0; x < 60; x += 1) {
        const after = captioned.rgbAt(x, y);
        if (distance(after, rotated.rgbAt(x, y)) === 0) continue;
        changed += 1;
        if (distance(after, [255, 255, 255]) === 0) white += 1;
        expect(x >= (x0 ?? 0) && x <= (x1 ?? 0) && y >= (y0 ?? 0) && y <= (y1 ?? 0)).toBe(true);
      }
    }
    expect(changed).toBeGreaterThan(100);
    expect(white).toBeGreaterThan(20);
    const shown = shownImage(outcome);
    expect(shown.rgbAt(30, 10)).toEqual(captioned.rgbAt(30, 10));
  });

  describe('an animated GIF from frames', () => {
    it('saves Pillow-drawn frames as a looping GIF', async () => {
      const sandbox = harness.manager.session('recipes:gif');
      const outcome = await run(
        sandbox,
        [
          'from PIL import Image, ImageDraw',
          '',
          'frames = []',
          'for i in range(8):',
          '    frame = Image.new("RGB", (64, 64), "white")',
          '    draw = ImageDraw.Draw(frame)',
          '    x = 4 + i * 6',
          '    draw.ellipse([x, 22, x + 20, 42], fill=(255 - i * 30, 40, i * 30))',
          '    frames.append(frame)',
          '',
          'frames[0].save("/mnt/data/ball.gif", save_all=True, append_images=frames[1:],',
          '               duration=80, loop=0)  # 80 ms a frame, loop forever',
          'print(Image.open("/mnt/data/ball.gif").n_frames, "frames")',
        ].join('\n'),
      );
      expectOk(outcome);
      expect(outcome.stdout).toBe('8 frames\n');
      const gif = summarizeGif(fileOf(outcome, 'ball.gif'));
      expect(gif).toEqual({
        width: 64,
        height: 64,
        frames: 8,
        delaysCs: [8, 8, 8, 8, 8, 8, 8, 8],
        loopCount: 0,
      });
    });

    it('turns matplotlib figures into frames without showing each figure', async () => {
      const sandbox = harness.manager.session('recipes:gif-plot');
      const outcome = await run(
        sandbox,
        [
          'import io',
          'import numpy as np',
          'import matplotlib.pyplot as plt',
          'from PIL import Image',
          '',
          'x = np.linspace(0, 2 * np.pi, 100)',
          'frames = []',
          'for phase in np.linspace(0, 2 * np.pi, 12, endpoint=False):',
          '    fig, ax = plt.subplots(figsize=(3, 2), dpi=60)',
          '    ax.plot(x, np.sin(x + phase))',
          '    ax.set_ylim(-1.1, 1.1)',
          '    buffer = io.BytesIO()',
          '    fig.savefig(buffer, format="png")',
          '    plt.close(fig)  # else every frame is also shown as a plot',
          '    buffer.seek(0)',
          '    frames.append(Image.open(buffer).convert("RGB"))',
          '',
          'frames[0].save("/mnt/data/sine.gif", save_all=True, append_images=frames[1:],',
          '               duration=100, loop=0)',
          'frames[0]  # a still of the first frame, shown in the thread',
        ].join('\n'),
      );
      expectOk(outcome);
      const gif = summarizeGif(fileOf(outcome, 'sine.gif'));
      expect([gif.width, gif.height, gif.frames, gif.loopCount]).toEqual([180, 120, 12, 0]);
      expect(new Set(gif.delaysCs)).toEqual(new Set([10]));
      // Only the still, not twelve figures.
      const still = shownImage(outcome);
      expect([still.width, still.height]).toEqual([180, 120]);
    });
  });
});
