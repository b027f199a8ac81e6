import fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import type { BlobStore } from '../storage/blob-store.js';
import { variantKey } from '../storage/keys.js';
import { CorruptImageError, ImageTooLargeError, UnsupportedImageError } from './errors.js';
import type { PixelBudget } from './pixel-budget.js';
import { describeHead, readHead, sniffFormat } from './sniff.js';

/**
 * The product's only sharp module. Strategy, measured on this 2-core machine (median of 5,
 * sharp.concurrency 1, cache off, widths 1200/600/200 × jpeg/webp):
 *   source 1600×1067 JPEG: clone() per output 150 ms, decode-once cascade 147 ms
 *   source 6000×4000 JPEG: clone() per output 314 ms, decode-once cascade 173 ms
 * so we decode once (with JPEG shrink-on-load) to a raw buffer of the largest width, and make
 * every output from that small buffer. Each clone() would re-decode the source per output.
 */

export type OutputFormat = 'jpeg' | 'webp' | 'avif' | 'png';
type SourceFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'tiff';

export interface ImageProcessorOptions {
  widths: readonly number[];
  formats: readonly OutputFormat[];
  maxPixels: number;
  /** Frames/pages a file may declare; we decode only the first, but absurd counts are refused. */
  maxPages?: number;
  /** Outputs encoded at once per image (libuv's pool bounds real parallelism anyway). */
  concurrency?: number;
  /** libvips stops a single decode after this long: a pathological file must not pin a worker. */
  timeoutSeconds?: number;
  /** Shared by a worker's resizes: each holds its source's pixels from decode to its last output. */
  pixelBudget?: PixelBudget;
}

export interface VariantSpec {
  width: number;
  format: OutputFormat;
}

/** Where variants go: the processor writes a temp file, the sink takes ownership of it. */
export interface VariantSink {
  tempPath(spec: VariantSpec): Promise<string>;
  /** Stores the finished file (moving it away) and returns its storage key. */
  commit(spec: VariantSpec, file: string): Promise<string>;
}

export interface Variant {
  /** The requested width slot (what the key says); never smaller than `width`. */
  size: number;
  width: number;
  height: number;
  format: OutputFormat;
  bytes: number;
  key: string;
}

export interface VariantsResult {
  source: { width: number; height: number; format: SourceFormat };
  variants: Variant[];
}

export interface MakeVariantsInput {
  input: string | Buffer | Readable;
  sink: VariantSink;
  /** Called after decoding and after each output: the activity heartbeats here. */
  heartbeat?: () => void;
  signal?: AbortSignal;
}

type RawImage = { data: Buffer; info: OutputInfo };

export function createImageProcessor(options: ImageProcessorOptions) {
  const widths = [...new Set(options.widths)].sort((a, b) => b - a);
  const specs: VariantSpec[] = widths.flatMap((width) =>
    options.formats.map((format) => ({ width, format })),
  );
  if (specs.length === 0) throw new Error('createImageProcessor: no widths or formats');

  async function makeVariants({
    input,
    sink,
    heartbeat,
    signal,
  }: MakeVariantsInput): Promise<VariantsResult> {
    // sharp buffers stream input in memory anyway; collecting it here keeps stream errors ours.
    const source = input instanceof Readable ? Buffer.concat(await input.toArray()) : input;
    const { meta, decodeRaw } = await inspect(source, widths[0], options);
    const release = (await options.pixelBudget?.acquire(meta.width * meta.height, signal)) ?? (() => {});
    try {
      const raw = await decodeRaw();
      heartbeat?.();
      const variants: Variant[] = [];
      const batch = Math.max(1, options.concurrency ?? specs.length);
      for (let i = 0; i < specs.length; i += batch) {
        signal?.throwIfAborted();
        const done = await Promise.all(
          specs.slice(i, i + batch).map((spec) => writeVariant(raw, spec, sink)),
        );
        variants.push(...done);
        heartbeat?.();
      }
      return { source: meta, variants };
    } finally {
      release();
    }
  }

  return { makeVariants, specs: (): readonly VariantSpec[] => specs };
}

export type ImageProcessor = ReturnType<typeof createImageProcessor>;

/**
 * Reads the header and checks format, pixel and frame limits; `decodeRaw` then decodes once, oriented
 * per EXIF and already shrunk to the largest output width (the caller first waits for the pixels to fit
 * its budget). Every failure here is about the input, so it becomes a typed non-retryable error, except
 * I/O trouble reading it, which stays retryable.
 */
async function inspect(input: string | Buffer, maxWidth: number, o: ImageProcessorOptions) {
  const head = await readHead(input);
  const sniffed = sniffFormat(head);
  if (!sniffed) {
    if (/^\s*(<\?xml|<svg)/i.test(head.toString('latin1'))) throw new UnsupportedImageError('svg');
    throw new CorruptImageError(`not an image (starts with ${describeHead(head)})`);
  }
  const base = sharp(input, {
    failOn: 'error',
    limitInputPixels: o.maxPixels,
    sequentialRead: true,
    pages: 1,
  }).timeout({ seconds: o.timeoutSeconds ?? 60 });
  try {
    const m = await base.metadata();
    const format = acceptedFormat(m);
    if ((m.pages ?? 1) > (o.maxPages ?? 1000)) throw new ImageTooLargeError(`${m.pages} frames`);
    const width = m.autoOrient?.width ?? m.width ?? 0;
    const height = m.autoOrient?.height ?? m.height ?? 0;
    if (width * height > o.maxPixels) throw new ImageTooLargeError(`${width}×${height} pixels`);
    const decodeRaw = (): Promise<RawImage> =>
      base
        .clone()
        .autoOrient()
        .resize({ width: maxWidth, withoutEnlargement: true })
        .toColourspace('srgb')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true })
        .catch((err: unknown) => Promise.reject(inputError(err)));
    return { meta: { width, height, format }, decodeRaw };
  } catch (err) {
    throw inputError(err);
  }
}

const ACCEPTED: Record<string, SourceFormat> = {
  jpeg: 'jpeg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  tiff: 'tiff',
};

function acceptedFormat(m: Metadata): SourceFormat {
  // libvips reports AVIF as "heif"; the compression tells AV1 (AVIF) from HEVC (HEIC).
  if (m.format === 'heif') {
    if (m.compression === 'av1') return 'avif';
    throw new UnsupportedImageError(`heif/${m.compression ?? 'unknown'}`);
  }
  const f = ACCEPTED[m.format ?? ''];
  if (!f) throw new UnsupportedImageError(m.format ?? 'unknown');
  return f;
}

function inputError(err: unknown): unknown {
  if (
    err instanceof CorruptImageError ||
    err instanceof UnsupportedImageError ||
    err instanceof ImageTooLargeError
  ) {
    return err;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(message)) return new ImageTooLargeError(message);
  if (/input file is missing|EMFILE|ENOMEM|ENOENT|EACCES/i.test(message)) return err;
  return new CorruptImageError(message.split('\n')[0].slice(0, 300));
}

async function writeVariant(raw: RawImage, spec: VariantSpec, sink: VariantSink): Promise<Variant> {
  const file = await sink.tempPath(spec);
  try {
    const { width, height, channels } = raw.info;
    let img = sharp(raw.data, { raw: { width, height, channels } }).resize({
      width: spec.width,
      withoutEnlargement: true,
    });
    // JPEG has no alpha: composite on white instead of letting transparent areas turn black.
    if (spec.format === 'jpeg' && channels === 4) img = img.flatten({ background: '#ffffff' });
    const info = await encode(img, spec.format).toFile(file);
    const key = await sink.commit(spec, file);
    return {
      size: spec.width,
      width: info.width,
      height: info.height,
      format: spec.format,
      bytes: info.size,
      key,
    };
  } finally {
    await fs.rm(file, { force: true });
  }
}

function encode(img: Sharp, format: OutputFormat): Sharp {
  switch (format) {
    case 'jpeg':
      return img.jpeg({ quality: 80, progressive: true });
    case 'webp':
      // effort 2, not libwebp's default 4: a third less CPU per image (162 → 105 ms for the three widths
      // of a 1600×1067 JPEG as JPEG and WebP) for 0.27 dB of PSNR and 2.4 % more bytes; effort 3 costs
      // as much as 4 (bench/encoding.ts measures both; docs/benchmark.md).
      return img.webp({ quality: 78, effort: 2 });
    case 'avif':
      return img.avif({ quality: 50, effort: 4 });
    case 'png':
      return img.png({ compressionLevel: 8 });
  }
}

/** Variants go to the blob store as variants/<source sha256>/<width>.<format>. */
export function blobStoreSink(store: BlobStore, sourceSha256: string): VariantSink {
  return {
    tempPath: (spec) => store.tempPath(`.${spec.format}`),
    async commit(spec, file) {
      const key = variantKey(sourceSha256, spec.width, spec.format);
      await store.putFile(key, file);
      return key;
    },
  };
}

/** True when every width × format variant of this source is stored: the resize can be skipped. */
export async function allVariantsExist(
  store: BlobStore,
  sourceSha256: string,
  widths: readonly number[],
  formats: readonly OutputFormat[],
): Promise<boolean> {
  const keys = widths.flatMap((w) => formats.map((f) => variantKey(sourceSha256, w, f)));
  const present = await Promise.all(keys.map((k) => store.has(k)));
  return present.every(Boolean);
}

export interface SharpSettings {
  /** libvips threads per image; 0 or undefined keeps sharp's default. */
  concurrency?: number;
  /** libvips operation cache; off by default since a worker sees each image once. */
  cache?: boolean | { memory?: number; files?: number; items?: number };
}

/** Process-wide sharp settings, applied once by the image worker at start. */
export function configureSharp({ concurrency, cache = false }: SharpSettings = {}) {
  if (concurrency && concurrency > 0) sharp.concurrency(concurrency);
  sharp.cache(cache);
  return {
    concurrency: sharp.concurrency(),
    versions: { sharp: sharp.versions.sharp, vips: sharp.versions.vips },
  };
}
