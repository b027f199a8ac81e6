/**
 * Content types of stored blobs. A variant's type follows from its key (the format is its extension);
 * an original's is read from its first bytes, because the type an operator's server sends is often wrong.
 */

const VARIANT_TYPES: Readonly<Record<string, string>> = {
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  webp: 'image/webp',
  png: 'image/png',
  avif: 'image/avif',
};

export const OCTET_STREAM = 'application/octet-stream';

/** The content type of a variant key (`variants/<sha>/<width>.<format>`), or undefined for any other key. */
export function variantContentType(key: string): string | undefined {
  if (!key.startsWith('variants/')) return undefined;
  const ext = /\.([a-z0-9]+)$/.exec(key)?.[1];
  return ext ? VARIANT_TYPES[ext] : undefined;
}

/** Sniffs the image formats the pipeline accepts from a blob's first bytes (16 are enough). */
export function sniffImageType(head: Buffer): string {
  const ascii = (from: number, to: number) => head.subarray(from, to).toString('latin1');
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  if (ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'image/png';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  if (ascii(0, 4) === 'GIF8') return 'image/gif';
  if (ascii(4, 8) === 'ftyp' && /^avi[fs]$/.test(ascii(8, 12))) return 'image/avif';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'image/tiff';
  return OCTET_STREAM;
}
