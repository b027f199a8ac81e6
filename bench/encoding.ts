/**
 * The image worker's own CPU per image under other encoder settings, and what they cost in quality:
 * `npx tsx bench/encoding.ts [--images 20] [--in-flight 2]` (issue 17's "encoding effort" and jemalloc
 * levers). Each source is decoded once to the largest width, as src/images/resize.ts does, then encoded
 * at every width × format of the product; WebP at several `effort` levels. Quality is the PSNR of each
 * decoded output against the resized pixels before encoding (the same for every setting), so a lower
 * effort shows what it loses, if anything. Run it under `LD_PRELOAD=…/libjemalloc.so.2` to compare
 * allocators (sharp then lets libvips use more than one thread per image: see `sharp.concurrency()`).
 * Uses the catalog images the bench painted (~/.cache/tour-import/bench-images).
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

const WIDTHS = [1200, 600, 200];
const EFFORTS = [4, 2, 0];

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

function sources(count: number): string[] {
  const root = path.join(os.homedir(), '.cache/tour-import/bench-images');
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.jpg'))
    .map((f) => path.join(root, f));
  if (!files.length)
    throw new Error(`no painted catalog images in ${root}: run \`npm run bench -- --smoke\` once`);
  return files.slice(0, count);
}

/** Peak signal-to-noise ratio of two raw RGB buffers of one size, in dB. */
function psnr(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  const mse = sum / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

interface Encoded {
  bytes: number;
  psnr: number;
}

/** One source at every width, JPEG and WebP at `effort`; the quality of each output. */
async function encodeAll(file: string, effort: number): Promise<Encoded[]> {
  const base = await sharp(file).resize({ width: WIDTHS[0] }).raw().toBuffer({ resolveWithObject: true });
  const input = { raw: base.info };
  const out: Encoded[] = [];
  for (const width of WIDTHS) {
    const reference = await sharp(base.data, input)
      .resize({ width })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const ref = { raw: reference.info };
    for (const format of ['jpeg', 'webp'] as const) {
      const img = sharp(reference.data, ref);
      const encoded = await (
        format === 'jpeg' ? img.jpeg({ quality: 80, progressive: true }) : img.webp({ quality: 78, effort })
      ).toBuffer();
      const decoded = await sharp(encoded).removeAlpha().raw().toBuffer();
      out.push({ bytes: encoded.length, psnr: psnr(reference.data, decoded) });
    }
  }
  return out;
}

/** CPU and wall time per source for one effort, `inFlight` sources at a time. */
async function measure(files: string[], effort: number, inFlight: number) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const results: Encoded[][] = [];
  for (let i = 0; i < files.length; i += inFlight)
    results.push(...(await Promise.all(files.slice(i, i + inFlight).map((f) => encodeAll(f, effort)))));
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const webp = results.flatMap((r) => r.filter((_, i) => i % 2 === 1));
  return {
    effort,
    cpuMsPerImage: (used.user + used.system) / 1000 / files.length,
    wallMsPerImage: wallMs / files.length,
    webpKiB: webp.reduce((s, e) => s + e.bytes, 0) / 1024 / files.length,
    webpPsnr: webp.reduce((s, e) => s + e.psnr, 0) / webp.length,
  };
}

const files = sources(arg('images', 20));
const inFlight = arg('in-flight', 2);
sharp.cache(false);
console.log(
  `sharp ${sharp.versions.sharp}, libvips threads per image ${sharp.concurrency()}, ` +
    `${files.length} sources, ${inFlight} in flight, allocator ${process.env['LD_PRELOAD'] ? 'jemalloc' : 'glibc'}`,
);
await measure(files.slice(0, 2), 4, inFlight); // warm-up
for (const effort of EFFORTS) console.log(JSON.stringify(await measure(files, effort, inFlight)));
