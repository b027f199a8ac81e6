import { TourSchema, type Tour } from './tour.js';
import { TourValidationError } from './errors.js';
import { storableStrings } from './text.js';

export interface TourLocator {
  operatorId: string;
  /** Used in the error when the candidate itself has no usable externalId. */
  externalId: string;
}

/**
 * The single gate every adapter's output passes through. Characters PostgreSQL refuses are cleaned
 * out first (so a NUL in a description imports without it, and lengths count what is stored); then
 * the schema judges. Throws TourValidationError naming the first failing field so an operator's data
 * problem is searchable and actionable.
 */
export function parseTour(candidate: unknown, where: TourLocator): Tour {
  const result = TourSchema.safeParse(storableStrings(candidate));
  if (result.success) return result.data;
  const [first] = result.error.issues;
  const field = first.path.map(String).join('.');
  throw new TourValidationError(
    where.operatorId,
    where.externalId,
    field,
    first.message,
    result.error.issues.length,
  );
}
