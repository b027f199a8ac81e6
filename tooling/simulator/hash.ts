/**
 * Deterministic, dependency-free hashing. Every generated field derives from these so the same
 * seed always yields the same catalog, and tours can be generated on demand instead of stored.
 */

/** FNV-1a over UTF-16 code units: turns a string seed into 32 bits. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** lowbias32 (Chris Wellons): a well-mixing bijection on 32-bit integers. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Inverse of mix32, so a product code can be mapped back to its tour index without a table. */
export function unmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x43021123);
  x ^= (x >>> 15) ^ (x >>> 30);
  x = Math.imul(x, 0x1d69e2a5);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Hash of a seed and any number of integer or string parts. */
export function hash(seed: number, ...parts: (number | string)[]): number {
  let h = mix32(seed ^ 0x9e3779b9);
  for (const p of parts) {
    const v = typeof p === 'number' ? p >>> 0 : hashString(p);
    h = mix32(h ^ mix32(v + 0x6d2b79f5));
  }
  return h;
}

/** A uniform float in [0, 1) from a hash. */
export function unit(seed: number, ...parts: (number | string)[]): number {
  return hash(seed, ...parts) / 0x1_0000_0000;
}

/** Small seeded PRNG (mulberry32) for drawing many values from one seed, e.g. image pixels. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

export function pick<T>(items: readonly T[], h: number): T {
  return items[h % items.length];
}
