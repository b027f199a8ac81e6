import { parseTour } from '../domain/validate.js';
import { TourValidationError } from '../domain/errors.js';
import { storableString } from '../domain/text.js';
import type { Tour } from '../domain/tour.js';
import type { ListEntry } from './types.js';

/**
 * Small readers shared by the dialect mappers. They never coerce a wrong type into a plausible
 * value: whatever does not fit is passed through so the schema rejects it and names the field.
 */

export type Raw = Record<string, unknown>;

export function asRecord(v: unknown): Raw | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : undefined;
}

export function asArray(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  return v === undefined || v === null || v === '' ? [] : [v];
}

/**
 * A non-empty trimmed string, or undefined. Numbers become strings (XML ids, numeric codes). Cleaned
 * as parseTour cleans every string, so an id read here for a listing entry (or a tombstone) is the
 * same id as the one its tour carries, and can be written to PostgreSQL.
 */
export function text(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return undefined;
  const t = storableString(v).trim();
  return t === '' ? undefined : t;
}

/** Numbers pass; numeric strings (all XML values are strings) become numbers; other values pass unchanged. */
export function numeric(v: unknown): unknown {
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  if (typeof v === 'string' && v.trim() === '') return undefined;
  return v;
}

/** Absent → null; anything else is left for the schema to judge. */
export function orNull<T>(v: T | undefined): T | null {
  return v === undefined ? null : v;
}

/** Validates a candidate; the external id in errors falls back to what the listing said. */
export function validate(operatorId: string, externalId: string, candidate: Raw): Tour {
  return parseTour(candidate, { operatorId, externalId });
}

/** Mapping of one listing item; a schema rejection becomes an `invalid` entry, never an exception. */
export function entryFrom(externalId: string, build: () => ListEntry): ListEntry {
  try {
    return build();
  } catch (err) {
    if (err instanceof TourValidationError)
      return { kind: 'invalid', externalId, error: err.message, field: err.field };
    throw err;
  }
}

/** Stand-in id for an item without one, so the failure can still be recorded and found. */
export function missingId(index: number): string {
  return `(missing id at position ${index})`;
}
