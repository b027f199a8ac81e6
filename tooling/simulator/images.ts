import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { prng } from './hash.js';
import { SizedLru } from './lru.js';

/** The simulator's only sharp user: it paints photo-like JPEGs and keeps the encoded bytes. */
export interface EncodedImage {
  bytes: Buffer;
  /** Strong ETag: a hash of the bytes, so new bytes always mean a new ETag. */
  etag: string;
}

export interface ImageKey {
  /** Everything that determines the picture (operator seed, image id, revision). */
  seed: number;
  width: number;
  height: number;
}

const CANVAS_W = 48;
const CANVAS_H = 32;

export class ImageGenerator {
  private readonly cache: SizedLru<EncodedImage>;
  /** Concurrent requests for the same image wait for one encode instead of starting their own. */
  private readonly pending = new Map<string, Promise<EncodedImage>>();

  /**
   * `diskDir`: painted images are also kept there as files and read back instead of painted again
   * (the bench's catalogs, between runs); a picture depends on its key alone.
   */
  constructor(
    maxCacheBytes = 256 * 1024 * 1024,
    private readonly diskDir?: string,
  ) {
    this.cache = new SizedLru(maxCacheBytes);
  }

  async get(key: ImageKey): Promise<EncodedImage> {
    const k = `${key.seed}:${key.width}x${key.height}`;
    const hit = this.cache.get(k);
    if (hit) return hit;
    let p = this.pending.get(k);
    if (!p) {
      p = this.paintOrRead(key).then((bytes) => {
        const img = { bytes, etag: `"${createHash('sha1').update(bytes).digest('base64url')}"` };
        this.cache.set(k, img, bytes.length);
        return img;
      });
      p.finally(() => this.pending.delete(k)).catch(() => undefined);
      this.pending.set(k, p);
    }
    return p;
  }

  private async paintOrRead(key: ImageKey): Promise<Buffer> {
    if (!this.diskDir) return paint(key);
    const file = path.join(this.diskDir, `${key.seed}-${key.width}x${key.height}.jpg`);
    const cached = await readFile(file).catch(() => undefined);
    if (cached) return cached;
    const bytes = await paint(key);
    await mkdir(this.diskDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, file);
    return bytes;
  }
}

/**
 * A tiny random landscape (sky gradient, horizon, a few soft blobs) scaled up smoothly, with grain
 * on top: cheap to make, yet compresses like a photo rather than a flat colour.
 */
async function paint(key: ImageKey): Promise<Buffer> {
  const rnd = prng(key.seed);
  const colour = () => [rnd() * 255, rnd() * 255, rnd() * 255];
  const [skyTop, skyBottom, ground] = [colour(), colour(), colour()];
  const horizon = CANVAS_H * (0.4 + rnd() * 0.3);
  const blobs = Array.from({ length: 4 + Math.floor(rnd() * 5) }, () => ({
    x: rnd() * CANVAS_W,
    y: rnd() * CANVAS_H,
    r: 2 + rnd() * 8,
    c: colour(),
  }));
  const raw = Buffer.alloc(CANVAS_W * CANVAS_H * 3);
  for (let y = 0; y < CANVAS_H; y++) {
    for (let x = 0; x < CANVAS_W; x++) {
      const f = y / horizon;
      let px =
        y < horizon
          ? skyTop.map((v, c) => v * (1 - f) + skyBottom[c] * f)
          : ground.map((v) => v * (0.7 + (0.3 * y) / CANVAS_H));
      for (const b of blobs) if ((x - b.x) ** 2 + (y - b.y) ** 2 < b.r ** 2) px = b.c;
      raw.set(px.map(Math.round), (y * CANVAS_W + x) * 3);
    }
  }
  const { width, height } = key;
  return sharp(raw, { raw: { width: CANVAS_W, height: CANVAS_H, channels: 3 } })
    .resize(width, height, { kernel: 'cubic' })
    .composite([
      {
        input: {
          create: {
            width,
            height,
            channels: 3,
            background: '#808080',
            noise: { type: 'gaussian', mean: 128, sigma: 12 },
          },
        },
        blend: 'overlay',
      },
    ])
    .jpeg({ quality: 78 })
    .toBuffer();
}
