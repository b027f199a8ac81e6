import { ActivityFailure, ApplicationFailure, isCancellation, log, sleep } from '@temporalio/workflow';
import { UNAVAILABLE_TYPES } from '../domain/errors.js';

/** The longest durable wait between two calls of a step whose service is unreachable. */
const MAX_WAIT_MS = 30_000;

/**
 * Calls a step again, after a durable wait, for as long as it fails because PostgreSQL or the blob store
 * is unreachable (each call has used its own bounded retries first). What the step does lands once the
 * service is back, however long the outage lasts, instead of a tour or its images being recorded as
 * failed for a reason that is not theirs, or an operator's breaker counting the outage.
 */
export async function untilReachable<T>(step: string, call: () => Promise<T>): Promise<T> {
  for (let waitMs = 1_000; ; waitMs = Math.min(waitMs * 2, MAX_WAIT_MS)) {
    try {
      return await call();
    } catch (err) {
      const type = unreachable(err);
      if (isCancellation(err) || !type) throw err;
      log.warn(`${step}: ${type}; calling it again in ${waitMs / 1000} s`);
      await sleep(waitMs);
    }
  }
}

/** The failure type when an activity failed because a service it needs is unreachable. */
function unreachable(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  return cause instanceof ApplicationFailure && UNAVAILABLE_TYPES.includes(cause.type ?? '')
    ? cause.type!
    : undefined;
}
