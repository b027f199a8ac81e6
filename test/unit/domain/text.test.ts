import { describe, expect, it } from 'vitest';
import { storableString, storableStrings, wellFormed } from '../../../src/domain/text.js';
import { storableText } from '../../../src/db/text.js';

describe('storable text', () => {
  it('keeps well-formed text, pairs included, as it is', () => {
    const s = 'Zürich \uD83C\uDFD4 – 5 km';
    expect(storableString(s)).toBe(s);
    expect(wellFormed(s)).toBe(s);
  });

  it('replaces lone high and low surrogates, at either end too', () => {
    expect(wellFormed('\uD800')).toBe('\uFFFD');
    expect(wellFormed('a\uDC00')).toBe('a\uFFFD');
    expect(wellFormed('\uDC00\uD800')).toBe('\uFFFD\uFFFD');
    expect(wellFormed('\uD83D\uDE00\uDE00')).toBe('\uD83D\uDE00\uFFFD');
  });

  it('walks arrays and objects, leaving numbers, nulls and booleans', () => {
    expect(storableStrings({ a: ['x\u0000', 1, null, true], b: { c: '\uD800' } })).toEqual({
      a: ['x', 1, null, true],
      b: { c: '\uFFFD' },
    });
  });

  it('keeps a visible escape for NUL in messages (db/text.ts), unlike tour content', () => {
    expect(storableText('body: a\u0000b \uD800')).toBe('body: a\\u0000b \uFFFD');
  });
});
