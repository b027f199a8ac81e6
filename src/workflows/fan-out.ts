import {
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { OperatorImportActivities } from '../activities/operator-import/index.js';
import { importTourWorkflowId, MAKING_ROOM_PRIORITY_KEY, operatorPriority } from '../constants.js';
import { breakerTrip, NON_RETRYABLE_TYPES, recordOutcome } from '../domain/operator-import.js';
import { rootFailure } from './failure.js';
import { ImportTour, refreshSignal } from './import-tour.js';
import { makingRoom } from './room.js';
import type { CarriedState, ImportTourResult } from './types.js';

/** The failure type recorded for a tour whose ImportTour someone cancelled alone. */
const TOUR_CANCELLED = 'ImportTourCancelled';
/** A push import closing between our start and our signal, again and again, is not worth more tries. */
const MAX_STARTS = 3;

export interface TourFanOut {
  /** Starts the tour's ImportTour child; its outcome is counted when it ends. */
  start(externalId: string): void;
  /** The last few failures, stored with an automatic pause. */
  readonly lastErrors: string[];
}

export interface FanOutOptions {
  operatorId: string;
  workflowId: string;
  state: CarriedState;
  bookkeeping: Pick<OperatorImportActivities, 'recordTourFailure'>;
  onTrip(reason: string): void;
  /** Takes a tour's outcome while a half-open breaker's probe runs (true), instead of the breaker. */
  probeOutcome?(ok: boolean): boolean;
}

/**
 * Runs one ImportTour child per tour, counts each outcome in the progress, records failures, and
 * calls `onTrip` when the circuit breaker trips.
 */
export function tourFanOut(o: FanOutOptions): TourFanOut {
  const { state } = o;
  const { progress, settings } = state;
  const lastErrors: string[] = [];

  async function importChild(externalId: string) {
    progress.queued--;
    progress.running++;
    try {
      const r = await childOrRefresh(o, externalId);
      if (r === 'refreshed' || r.outcome === 'imported' || r.outcome === 'stale') progress.done++;
      else if (r.outcome === 'removed') progress.removed++;
      else progress.unchanged++;
      tally(true);
    } catch (err) {
      // The parent's own cancellation ends the import; a child cancelled alone (one tour, in the Web UI)
      // is a failure a later run can fix: recorded, and the delta mark does not pass it.
      const alone = isCancellation(err) && !CancellationScope.current().consideredCancelled;
      if (isCancellation(err) && !alone) throw err;
      progress.failed++;
      const { type, message } = alone
        ? { type: TOUR_CANCELLED, message: 'its ImportTour was cancelled on its own' }
        : rootFailure(err);
      if (!NON_RETRYABLE_TYPES.includes(type)) state.transientFailures = (state.transientFailures ?? 0) + 1;
      lastErrors.push(`${externalId}: ${type}: ${message}`.slice(0, 300));
      lastErrors.splice(0, Math.max(0, lastErrors.length - 5));
      await o.bookkeeping.recordTourFailure({
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
    if (o.probeOutcome?.(ok)) return;
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
    start: (externalId) => void importChild(externalId).catch(() => undefined),
  };
}

/**
 * The tour's ImportTour child. When a push import of the tour is running, it may have fetched before
 * the change this listing saw, so it is asked for one more pass instead; if it has closed meanwhile,
 * the child is started again.
 */
async function childOrRefresh(o: FanOutOptions, externalId: string): Promise<ImportTourResult | 'refreshed'> {
  const { state } = o;
  const { settings } = state;
  const workflowId = importTourWorkflowId(o.operatorId, externalId);
  for (let attempt = 1; ; attempt++) {
    try {
      return await executeChild(ImportTour, {
        workflowId,
        args: [
          {
            operatorId: o.operatorId,
            externalId,
            listed: true,
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
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const refreshed = await getExternalWorkflowHandle(workflowId)
        .signal(refreshSignal)
        .then(
          () => true,
          () => false,
        );
      if (refreshed) return 'refreshed';
      if (attempt >= MAX_STARTS)
        // Recorded as a failure a later run can fix: the delta mark stays, the next import lists it again.
        throw ApplicationFailure.retryable(
          `a push import of this tour kept closing before it could be refreshed (${MAX_STARTS} tries)`,
          'RefreshNotDelivered',
        );
    }
  }
}
