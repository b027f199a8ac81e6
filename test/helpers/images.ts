import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import sharp from 'sharp';

/**
 * Real and hostile image bytes for tests. Everything is generated, so tests need no fixtures and
 * each case is exactly the shape it claims (a header that lies about its size, a cut-off JPEG...).
 */

/** A JPEG with photo-like detail (blurred noise over a gradient), so encoders do real work. */
export async function photoJpeg(width: number, height: number, quality = 85): Promise<Buffer> {
  const noise = await sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 60 },
    },
  })
    .blur(1.5)
    .png({ compressionLevel: 0 })
    .toBuffer();
  const gradient = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
      <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
        <stop offset="0" stop-color="#1d6fa5"/><stop offset="0.5" stop-color="#e8c170"/><stop offset="1" stop-color="#2f5d2a"/>
      </linearGradient></defs>
      <rect width="100%" height="100%" fill="url(#g)"/>
    </svg>`,
  );
  return sharp(gradient)
    .composite([{ input: noise, blend: 'overlay' }])
    .jpeg({ quality })
    .toBuffer();
}

/** A PNG of the given size (optionally with an EXIF-free alpha channel). */
export async function photoPng(width: number, height: number): Promise<Buffer> {
  return sharp(await photoJpeg(width, height))
    .png()
    .toBuffer();
}

/** A JPEG with EXIF orientation 6 (rotate 90° clockwise to display): stored W×H, displayed H×W. */
export async function rotatedJpeg(width: number, height: number): Promise<Buffer> {
  return sharp(await photoJpeg(width, height))
    .withMetadata({ orientation: 6 })
    .jpeg()
    .toBuffer();
}

/** A real JPEG cut off part way through its entropy-coded data. */
export async function truncatedJpeg(width = 800, height = 600, keep = 0.6): Promise<Buffer> {
  const full = await photoJpeg(width, height);
  return full.subarray(0, Math.floor(full.length * keep));
}

export function htmlBytes(): Buffer {
  return Buffer.from(
    '<!doctype html><html><head><title>Not found</title></head><body><h1>Oops</h1></body></html>\n',
  );
}

export function svgWithScript(): Buffer {
  return Buffer.from(
    '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="400" height="300">' +
      '<script>fetch("http://169.254.169.254/latest/meta-data/")</script>' +
      '<rect width="400" height="300" fill="red"/></svg>',
  );
}

/**
 * A PNG whose header declares width×height (30000² = 900 Mpx by default) but whose few KB of
 * data cannot fill it: what a decompression/pixel bomb looks like to a decoder's header check.
 */
export function pngPixelBomb(width = 30_000, height = 30_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  // Some rows of zeros (filter byte + RGB): highly compressible, like a real bomb's payload.
  const idat = zlib.deflateSync(Buffer.alloc(200 * (1 + width * 3)), { level: 9 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(typeAndData) >>> 0);
  return Buffer.concat([len, typeAndData, crc]);
}

/** An animated GIF of `frames` small frames of changing colour. */
export async function animatedGif(frames = 300, width = 32, height = 32): Promise<Buffer> {
  const frame = width * height * 4;
  const raw = Buffer.alloc(frame * frames);
  for (let f = 0; f < frames; f++) {
    const [r, g, b] = [(f * 37) % 256, (f * 91) % 256, (f * 53) % 256];
    for (let i = f * frame; i < (f + 1) * frame; i += 4) {
      raw[i] = r;
      raw[i + 1] = g;
      raw[i + 2] = b;
      raw[i + 3] = 255;
    }
  }
  return sharp(raw, { raw: { width, height: height * frames, channels: 4, pageHeight: height } })
    .gif({ delay: 40, loop: 0 })
    .toBuffer();
}

/** Incompressible bytes, for byte-limit tests. */
export function randomBody(bytes: number): Buffer {
  return randomBytes(bytes);
}

/** A fully transparent RGBA PNG. */
export async function transparentPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .png()
    .toBuffer();
}

/** What a test wants to know about an image file or buffer (tests may not import sharp). */
export async function imageInfo(input: string | Buffer) {
  const m = await sharp(input).metadata();
  return {
    format: m.format,
    width: m.width,
    height: m.height,
    pages: m.pages ?? 1,
    orientation: m.orientation,
    hasExif: m.exif !== undefined,
  };
}

/** The first pixel's RGB values. */
export async function firstPixel(input: string | Buffer): Promise<number[]> {
  const { data, info } = await sharp(input).raw().toBuffer({ resolveWithObject: true });
  return [...data.subarray(0, info.channels)];
}
