import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_TYPES } from '../domain/operator-import.js';
import { NOTIFY_ATTEMPTS } from '../domain/notifications.js';

/** Activity option profiles, grouped by what the activities wait on. */
export function activityProfiles(retry: { initialIntervalMs: number; maximumAttempts: number }) {
  const policy = {
    initialInterval: retry.initialIntervalMs,
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: retry.maximumAttempts,
    nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
  } as const;
  // (0 attempts means no limit, and stays so; with 1 attempt an image is not retried alone at all.)
  const attemptsAfterBatch = retry.maximumAttempts > 1 ? retry.maximumAttempts - 1 : retry.maximumAttempts;
  return {
    /** Operator API calls: listing pages and single-tour fetches. */
    http: { startToCloseTimeout: '2 minutes', heartbeatTimeout: '20 seconds', retry: policy },
    /**
     * A listing page. Its first call may stream and stage a whole one-answer catalog (dialect D, hundreds
     * of MiB): it heartbeats throughout, so a dead worker is noticed in seconds all the same.
     */
    listing: { startToCloseTimeout: '30 minutes', heartbeatTimeout: '20 seconds', retry: policy },
    /**
     * All of a tour's images at once; downloads and resizes stream and heartbeat, so a dead worker is
     * noticed in seconds, while the batch may wait long for the CPU behind other imports.
     */
    imageBatch: { startToCloseTimeout: '30 minutes', heartbeatTimeout: '15 seconds', retry: policy },
    /** An image retried alone after its tour's batch: the batch was its first attempt, so they add up. */
    imageRetriedAlone: {
      startToCloseTimeout: '5 minutes',
      heartbeatTimeout: '15 seconds',
      retry: { ...policy, maximumAttempts: attemptsAfterBatch },
    },
    /** Notifications: a few attempts, then recorded as failed (the activity never fails an import). */
    notify: {
      startToCloseTimeout: '1 minute',
      retry: { ...policy, maximumAttempts: NOTIFY_ATTEMPTS, nonRetryableErrorTypes: [] },
    },
    /** PostgreSQL bookkeeping: quick, retried until the database is back. */
    db: {
      startToCloseTimeout: '30 seconds',
      // No attempt limit: bookkeeping must land once the database is back.
      retry: {
        initialInterval: retry.initialIntervalMs,
        backoffCoefficient: 2,
        maximumInterval: '10 seconds',
        nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
      },
    },
  } satisfies Record<string, ActivityOptions>;
}

/**
 * The per-tour fetch and persist run as local activities: inside the workflow task on the tour-import
 * worker, recorded as one marker each instead of an activity task's round trip through the server
 * (schedule, dispatch, start, complete, and a workflow task to react). A tour takes one workflow task
 * fewer per step and the Temporal server does a fraction of the work per tour. Backoffs longer than
 * `localRetryThreshold` (an operator's Retry-After, PostgreSQL down) become durable timers.
 */
export function localActivityProfiles(retry: { initialIntervalMs: number; maximumAttempts: number }) {
  const { http, db } = activityProfiles(retry);
  const local = (o: ActivityOptions): LocalActivityOptions => ({
    startToCloseTimeout: o.startToCloseTimeout,
    retry: o.retry,
    localRetryThreshold: '10 seconds',
  });
  return { http: local(http), db: local(db) };
}

/**
 * Whether an image that failed retryably in its tour's batch gets activities of its own: not when a
 * single attempt was asked for (`maximumAttempts: 1`), since the batch was that attempt.
 */
export function retriesAloneAfterBatch(retry: { maximumAttempts: number }): boolean {
  return retry.maximumAttempts !== 1;
}
