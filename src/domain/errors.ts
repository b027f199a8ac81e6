/**
 * A tour the canonical schema rejects. Permanent: retrying the same payload cannot fix it, so the
 * activity layer turns it into a non-retryable ApplicationFailure of type `TourValidationFailed`.
 */
export class TourValidationError extends Error {
  readonly type = PERMANENT_FAILURES.tourValidationFailed;
  readonly retryable = false;

  constructor(
    readonly operatorId: string,
    readonly externalId: string,
    /** Dotted path of the first issue (e.g. `price.currency`), empty when the whole value is wrong. */
    readonly field: string,
    readonly detail: string,
    readonly issueCount = 1,
  ) {
    const more = issueCount > 1 ? ` (and ${issueCount - 1} more issue${issueCount > 2 ? 's' : ''})` : '';
    super(`tour "${externalId}" of operator "${operatorId}": field "${field || '(root)'}": ${detail}${more}`);
    this.name = 'TourValidationError';
  }
}

/**
 * The failure types no retry can fix, spelled once: the modules that throw them and the workflows'
 * retry policies (NON_RETRYABLE_TYPES in operator-import.ts) both use these. They live in histories
 * and in the tour_failures table: never rename one.
 */
export const PERMANENT_FAILURES = {
  /** A write PostgreSQL refused for its data (SQLSTATE class 22, or 23 where not a race). */
  dataRejected: 'DataRejected',
  /** The listing's staged record of a tour was swept before its ImportTour ran. */
  stagedTourMissing: 'StagedTourMissing',
  /** The canonical schema rejects the tour (TourValidationError). */
  tourValidationFailed: 'TourValidationFailed',
  operatorPayloadInvalid: 'OperatorPayloadInvalid',
  operatorApplicationError: 'OperatorApplicationError',
  unknownOperator: 'UnknownOperator',
  corruptImage: 'CorruptImage',
  imageTooLarge: 'ImageTooLarge',
  unsupportedImage: 'UnsupportedImage',
  unsafeUrl: 'UnsafeUrl',
} as const;

/** Failure type of a write PostgreSQL refused for its data: the same write fails on every retry. */
export const DATA_REJECTED = PERMANENT_FAILURES.dataRejected;

/**
 * Failure types of a service the import depends on being unreachable, not of the work itself: the
 * workflows call such a step again (with a durable wait between) until the service is back, however long
 * that takes, instead of recording the tour or its images as failed. Never rename one.
 */
export const UNAVAILABLE_FAILURES = {
  /** PostgreSQL refused or lost the connection, or is shutting down or starting up. */
  databaseUnavailable: 'DatabaseUnavailable',
  /** The blob store (S3) could not be reached or answered 5xx after its own retries. */
  blobStoreUnavailable: 'BlobStoreUnavailable',
} as const;

export const UNAVAILABLE_TYPES: readonly string[] = Object.values(UNAVAILABLE_FAILURES);
