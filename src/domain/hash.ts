import { createHash } from 'node:crypto';
import type { Tour } from './tour.js';

/**
 * Fields that change without the tour's content changing. sourceUpdatedAt moves on every operator
 * touch; hashing it would make every delta re-process (and re-download images of) unchanged tours.
 */
const VOLATILE_FIELDS = new Set<string>(['sourceUpdatedAt']);

/** JSON with object keys sorted at every level; `undefined` members are dropped like JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    return s === undefined ? 'null' : s;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`);
  return `{${members.join(',')}}`;
}

/** Stable sha256 (hex) of a tour's content; equal hashes mean "nothing to do" for the pipeline. */
export function tourContentHash(tour: Tour): string {
  const content = Object.fromEntries(Object.entries(tour).filter(([k]) => !VOLATILE_FIELDS.has(k)));
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}
