/**
 * A tour the canonical schema rejects. Permanent: retrying the same payload cannot fix it, so the
 * activity layer turns it into a non-retryable ApplicationFailure of type `TourValidationFailed`.
 */
export class TourValidationError extends Error {
  readonly type = 'TourValidationFailed';
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
 * Failure type of a write PostgreSQL refused for its data (SQLSTATE class 22, or 23 where not a
 * race): the same write fails on every retry. Named here, in the layer both import, so the
 * workflows' retry policies and the activities that throw it spell it alike.
 */
export const DATA_REJECTED = 'DataRejected';
