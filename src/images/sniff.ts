import fs from 'node:fs/promises';

/**
 * Recognises the accepted raster formats from their magic bytes, before any libvips loader sees
 * the input. libvips would happily parse SVG (librsvg), PDF, or anything else it has a loader
 * for; sniffing first keeps those parsers out of reach of operator-supplied bytes.
 */
export type SniffedFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'isobmff';

const SNIFF_BYTES = 32;

export function sniffFormat(head: Buffer): SniffedFormat | null {
  const at = (offset: number, bytes: number[]) => bytes.every((b, i) => head[offset + i] === b);
  const ascii = (offset: number, s: string) => head.toString('latin1', offset, offset + s.length) === s;
  if (at(0, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  if (at(0, [0x49, 0x49, 0x2a, 0x00]) || at(0, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  // AVIF (and HEIC) are ISO-BMFF: decided after metadata, which tells AV1 from HEVC.
  if (ascii(4, 'ftyp')) return 'isobmff';
  return null;
}

/** A short, printable description of unrecognised bytes for error messages ("<!doctype html"). */
export function describeHead(head: Buffer): string {
  const text = head.toString('latin1', 0, 16);
  if (/^[\x09\x0a\x0d\x20-\x7e]+$/.test(text)) return JSON.stringify(text.trim().slice(0, 16));
  return `0x${head.subarray(0, 8).toString('hex')}`;
}

/** First bytes of a file or buffer. */
export async function readHead(input: string | Buffer): Promise<Buffer> {
  if (Buffer.isBuffer(input)) return input.subarray(0, SNIFF_BYTES);
  const fh = await fs.open(input, 'r');
  try {
    const head = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(head, 0, SNIFF_BYTES, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
