/**
 * Blob keys. Originals are content-addressed by the SHA-256 of their bytes, so the same image
 * reached through two URLs (or downloaded twice) is one blob. Variants are keyed by the hash of
 * their source plus size and format, which makes a resize idempotent and skippable.
 */

const SHA256_HEX = /^[0-9a-f]{64}$/;
const KEY_SEGMENT = /^[A-Za-z0-9._-]+$/;

export function originalKey(sha256: string): string {
  assertSha256(sha256);
  return `originals/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
}

export function variantKey(sourceSha256: string, width: number, format: string): string {
  assertSha256(sourceSha256);
  if (!Number.isInteger(width) || width <= 0) throw new Error(`Invalid variant width: ${width}`);
  if (!/^[a-z0-9]+$/.test(format)) throw new Error(`Invalid variant format: ${format}`);
  return `variants/${sourceSha256}/${width}.${format}`;
}

/** The original's hash a key belongs to (an original, or one of its variants); undefined for other keys. */
export function sourceHashOfKey(key: string): string | undefined {
  const original = /^originals\/[^/]+\/[^/]+\/([0-9a-f]{64})$/.exec(key)?.[1];
  if (original) return originalKey(original) === key ? original : undefined;
  return /^variants\/([0-9a-f]{64})\/[^/]+$/.exec(key)?.[1];
}

/**
 * Keys are relative, slash-separated paths of plain segments. Rejecting `..`, empty segments,
 * backslashes and absolute paths here means no caller can make a store write outside its root,
 * whatever the key was built from.
 */
export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 512) {
    throw new Error(`Invalid blob key: ${JSON.stringify(key)}`);
  }
  const segments = key.split('/');
  for (const s of segments) {
    if (!KEY_SEGMENT.test(s) || s === '.' || s === '..' || s.startsWith('.')) {
      throw new Error(`Invalid blob key: ${JSON.stringify(key)}`);
    }
  }
}

function assertSha256(sha256: string): void {
  if (!SHA256_HEX.test(sha256)) throw new Error(`Not a lowercase hex SHA-256: ${JSON.stringify(sha256)}`);
}
