import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CorruptImageError, ImageTooLargeError, UnsupportedImageError } from '../../../src/images/errors.js';
import {
  allVariantsExist,
  blobStoreSink,
  configureSharp,
  createImageProcessor,
  type ImageProcessorOptions,
} from '../../../src/images/resize.js';
import { createPixelBudget } from '../../../src/images/pixel-budget.js';
import { createLocalBlobStore, type BlobStore } from '../../../src/storage/blob-store.js';
import { variantKey } from '../../../src/storage/keys.js';
import {
  animatedGif,
  firstPixel,
  imageInfo,
  transparentPng,
  htmlBytes,
  photoJpeg,
  pngPixelBomb,
  randomBody,
  rotatedJpeg,
  svgWithScript,
  truncatedJpeg,
} from '../../helpers/images.js';

const OPTIONS: ImageProcessorOptions = {
  widths: [1200, 600, 200],
  formats: ['jpeg', 'webp'],
  maxPixels: 50_000_000,
};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let root: string;
let store: BlobStore;
let photo: Buffer;

beforeAll(async () => {
  configureSharp({ cache: false });
  photo = await photoJpeg(1600, 1067);
});
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'img-'));
  store = createLocalBlobStore(root);
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function run(input: string | Buffer | Readable, options: Partial<ImageProcessorOptions> = {}) {
  const heartbeats: number[] = [];
  const hash = sha(Buffer.isBuffer(input) ? input : Buffer.from(String(Math.random())));
  const result = await createImageProcessor({ ...OPTIONS, ...options }).makeVariants({
    input,
    sink: blobStoreSink(store, hash),
    heartbeat: () => heartbeats.push(Date.now()),
  });
  return { result, hash, heartbeats };
}

const tmpLeft = async () => (await fs.readdir(path.join(root, '.tmp')).catch(() => [])).length;

describe('image processor', () => {
  it('makes every width × format, with true sizes and formats on disk', async () => {
    const { result, hash, heartbeats } = await run(photo);
    expect(result.source).toEqual({ width: 1600, height: 1067, format: 'jpeg' });
    expect(result.variants.map((v) => `${v.size}.${v.format}:${v.width}x${v.height}`).sort()).toEqual(
      [
        '1200.jpeg:1200x800',
        '1200.webp:1200x800',
        '200.jpeg:200x133',
        '200.webp:200x133',
        '600.jpeg:600x400',
        '600.webp:600x400',
      ].sort(),
    );
    for (const v of result.variants) {
      expect(v.key).toBe(variantKey(hash, v.size, v.format));
      const file = await fs.readFile(store.path!(v.key));
      expect(file.length).toBe(v.bytes);
      const meta = await imageInfo(file);
      expect([meta.format, meta.width, meta.height]).toEqual([v.format, v.width, v.height]);
    }
    expect(heartbeats.length).toBeGreaterThanOrEqual(2);
    expect(await tmpLeft()).toBe(0);
  });

  it('holds its source pixels in the worker’s budget while it resizes, and gives them back', async () => {
    const budget = createPixelBudget(100_000_000);
    const held: number[] = [];
    await createImageProcessor({ ...OPTIONS, pixelBudget: budget }).makeVariants({
      input: photo,
      sink: blobStoreSink(store, sha(photo)),
      heartbeat: () => held.push(budget.inUse()),
    });
    expect(new Set(held)).toEqual(new Set([1600 * 1067]));
    expect(budget.inUse()).toBe(0);
    // A resize that waited for pixels and then failed on its input leaves nothing held.
    const big = await budget.acquire(99_000_000);
    const waiting = run(await truncatedJpeg(), { pixelBudget: budget });
    big();
    await expect(waiting).rejects.toBeInstanceOf(CorruptImageError);
    expect(budget.inUse()).toBe(0);
  });

  it('never enlarges: a small source fills the big slots at its own size', async () => {
    const { result } = await run(await photoJpeg(500, 300));
    const bySlot = Object.fromEntries(
      result.variants.filter((v) => v.format === 'webp').map((v) => [v.size, v.width]),
    );
    expect(bySlot).toEqual({ 1200: 500, 600: 500, 200: 200 });
  });

  it('applies EXIF orientation and strips metadata', async () => {
    const { result } = await run(await rotatedJpeg(900, 600));
    expect(result.source).toMatchObject({ width: 600, height: 900 });
    const big = result.variants.find((v) => v.size === 1200 && v.format === 'jpeg')!;
    expect([big.width, big.height]).toEqual([600, 900]);
    const meta = await imageInfo(store.path!(big.key));
    expect(meta.orientation).toBeUndefined();
    expect(meta.hasExif).toBe(false);
  });

  it('reads files and streams, and PNG with alpha', async () => {
    const file = path.join(root, 'in.jpg');
    await fs.writeFile(file, photo);
    expect((await run(file)).result.variants).toHaveLength(6);
    const stream = Readable.from([photo.subarray(0, 5), photo.subarray(5, 100_000), photo.subarray(100_000)]);
    expect((await run(stream)).result.source.width).toBe(1600);
    const { result } = await run(await transparentPng(400, 300));
    expect(result.source.format).toBe('png');
    // Transparent areas become white in JPEG, not black.
    const jpeg = result.variants.find((v) => v.format === 'jpeg' && v.size === 200)!;
    expect(Math.min(...(await firstPixel(store.path!(jpeg.key))))).toBeGreaterThan(240);
  });

  it('takes the first frame of an animation and refuses absurd frame counts', async () => {
    const gif = await animatedGif(300);
    const { result } = await run(gif);
    expect(result.source).toEqual({ width: 32, height: 32, format: 'gif' });
    expect((await imageInfo(store.path!(result.variants[0].key))).pages).toBe(1);
    await expect(run(gif, { maxPages: 100 })).rejects.toBeInstanceOf(ImageTooLargeError);
  });

  it('tells whether all variants of a source exist, so the resize can be skipped', async () => {
    const hash = sha(photo);
    expect(await allVariantsExist(store, hash, OPTIONS.widths, OPTIONS.formats)).toBe(false);
    await run(photo);
    expect(await allVariantsExist(store, hash, OPTIONS.widths, OPTIONS.formats)).toBe(true);
    await store.delete(variantKey(hash, 600, 'webp'));
    expect(await allVariantsExist(store, hash, OPTIONS.widths, OPTIONS.formats)).toBe(false);
  });

  it('runs twice idempotently', async () => {
    const a = await run(photo);
    const b = await run(photo);
    expect(b.result.variants.map((v) => v.key)).toEqual(a.result.variants.map((v) => v.key));
  });
});

describe('image processor on hostile input', () => {
  const refusals: [string, () => Promise<Buffer> | Buffer, unknown, string][] = [
    ['truncated JPEG', () => truncatedJpeg(), CorruptImageError, 'CorruptImage'],
    ['HTML error page', htmlBytes, CorruptImageError, 'CorruptImage'],
    ['random bytes', () => randomBody(50_000), CorruptImageError, 'CorruptImage'],
    [
      'JPEG header over garbage',
      () => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBody(20_000)]),
      CorruptImageError,
      'CorruptImage',
    ],
    ['empty file', () => Buffer.alloc(0), CorruptImageError, 'CorruptImage'],
    ['SVG with script', svgWithScript, UnsupportedImageError, 'UnsupportedImage'],
    ['30000×30000 PNG bomb', () => pngPixelBomb(), ImageTooLargeError, 'ImageTooLarge'],
  ];

  it.each(refusals)(
    '%s → typed, non-retryable error, nothing stored',
    async (_name, make, type, typeName) => {
      const input = await make();
      const started = Date.now();
      const err = await run(input).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(type);
      expect(err).toMatchObject({ type: typeName, nonRetryable: true });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(
        await fs.readdir(root, { recursive: true }).then((f) => f.filter((x) => !x.startsWith('.tmp'))),
      ).toEqual([]);
    },
  );

  it('enforces maxPixels on ordinary images too', async () => {
    await expect(run(photo, { maxPixels: 1_000_000 })).rejects.toMatchObject({ type: 'ImageTooLarge' });
  });

  it('keeps I/O trouble retryable (missing input file is not "corrupt")', async () => {
    const err = await run(path.join(root, 'missing.jpg')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(CorruptImageError);
  });
});
