/**
 * Characters PostgreSQL refuses to store. NUL (U+0000) is refused by text ("invalid byte sequence")
 * and by jsonb ("\u0000 cannot be converted to text"); a lone UTF-16 surrogate is written by
 * JSON.stringify as an escape jsonb rejects (node-postgres already turns it into U+FFFD for text
 * parameters). Either would fail the same write on every retry.
 */
const NUL = /\u0000/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Lone surrogates become U+FFFD, as String.prototype.toWellFormed (ES2024, beyond our lib) does. */
export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

/** Content as PostgreSQL can store it: NUL dropped (it carries nothing a reader sees), lone surrogates replaced. */
export function storableString(s: string): string {
  return wellFormed(s.replace(NUL, ''));
}

/** Every string inside a JSON-like value (arrays, plain objects) made storable; other values as they are. */
export function storableStrings(value: unknown): unknown {
  if (typeof value === 'string') return storableString(value);
  if (Array.isArray(value)) return value.map(storableStrings);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, storableStrings(v)]));
  }
  return value;
}
