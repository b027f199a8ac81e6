import {
  ParentClosePolicy,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { CatalogActivities } from '../activities/catalog.js';
import { importTourWorkflowId, MAKING_ROOM_PRIORITY_KEY, operatorPriority } from '../constants.js';
import { breakerTrip, recordOutcome } from './breaker.js';
import { rootFailure } from './failure.js';
import { ImportTour, refreshSignal } from './import-tour.js';
import { NON_RETRYABLE_TYPES } from './retry.js';
import { makingRoom } from './room.js';
import type { CarriedState } from './types.js';

export interface TourFanOut {
  /** Starts the tour's ImportTour child; its outcome is counted when it ends. */
  start(externalId: string): void;
  /** The last few failures, stored with an automatic pause. */
  readonly lastErrors: string[];
}

/**
 * Runs one ImportTour child per tour, counts each outcome in the progress, records failures, and
 * calls `onTrip` when the circuit breaker trips.
 */
export function tourFanOut(o: {
  operatorId: string;
  workflowId: string;
  state: CarriedState;
  db: Pick<CatalogActivities, 'recordTourFailure'>;
  onTrip(reason: string): void;
}): TourFanOut {
  const { state } = o;
  const { progress, settings } = state;
  const lastErrors: string[] = [];

  async function run(externalId: string) {
    progress.queued--;
    progress.running++;
    try {
      const r = await executeChild(ImportTour, {
        workflowId: importTourWorkflowId(o.operatorId, externalId),
        args: [
          {
            operatorId: o.operatorId,
            externalId,
            force: settings.force,
            imageTaskQueue: settings.imageTaskQueue,
            retry: settings.retry,
          },
        ],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        priority: operatorPriority(
          o.operatorId,
          makingRoom(state, Date.now()) ? MAKING_ROOM_PRIORITY_KEY : undefined,
        ),
      });
      if (r.outcome === 'removed') progress.removed++;
      else if (r.outcome === 'unchanged') progress.unchanged++;
      else progress.done++;
      tally(true);
    } catch (err) {
      if (isCancellation(err)) throw err;
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        // A push import of this tour is running; it may have fetched before the change this listing
        // saw, so ask it for one more pass (if it has just ended, it fetched after the listing anyway).
        await getExternalWorkflowHandle(importTourWorkflowId(o.operatorId, externalId))
          .signal(refreshSignal)
          .catch(() => undefined);
        return void progress.done++;
      }
      progress.failed++;
      const { type, message } = rootFailure(err);
      if (!NON_RETRYABLE_TYPES.includes(type)) state.transientFailures = (state.transientFailures ?? 0) + 1;
      lastErrors.push(`${externalId}: ${type}: ${message}`.slice(0, 300));
      lastErrors.splice(0, Math.max(0, lastErrors.length - 5));
      await o.db.recordTourFailure({
        operatorId: o.operatorId,
        externalId,
        kind: type,
        message,
        workflowId: o.workflowId,
      });
      tally(false);
    } finally {
      progress.running--;
    }
  }

  function tally(ok: boolean) {
    const next = recordOutcome(state, ok, settings.breaker);
    state.recent = next.recent;
    state.consecutiveFailures = next.consecutiveFailures;
    const trip = breakerTrip(next, settings.breaker);
    if (trip && !progress.paused) {
      o.onTrip(trip);
      state.consecutiveFailures = 0;
      state.recent = [];
    }
  }

  return {
    lastErrors,
    // Failures are counted inside; a cancellation surfaces through the main loop's own awaits.
    start: (externalId) => void run(externalId).catch(() => undefined),
  };
}
