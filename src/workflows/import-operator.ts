import {
  CancellationScope,
  ParentClosePolicy,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { CatalogActivities } from '../activities/catalog.js';
import { QUERIES, SEARCH_ATTRIBUTES, SIGNALS, importTourWorkflowId } from '../constants.js';
import { breakerTrip, recordOutcome } from './breaker.js';
import { emptyProgress } from './progress.js';
import { rootFailure } from './failure.js';
import { ImportTour } from './import-tour.js';
import { activityProfiles, DEFAULT_RETRY } from './retry.js';
import type {
  CarriedState,
  ImportOperatorInput,
  ImportOperatorResult,
  ImportStatus,
  Progress,
} from './types.js';

export const progressQuery = defineQuery<Progress>(QUERIES.progress);
export const pauseSignal = defineSignal<[{ reason?: string }?]>(SIGNALS.pause);
export const resumeSignal = defineSignal(SIGNALS.resume);

const MAX_HISTORY_EVENTS = 10_000;

/**
 * Imports one operator's catalog: lists it page by page, starts one ImportTour child per new or changed
 * tour in a bounded window, pauses on request or when its circuit breaker trips, and continues as new
 * before its history grows large. Only one import per operator runs at a time.
 */
export async function ImportOperator(input: ImportOperatorInput): Promise<ImportOperatorResult> {
  const { workflowId, runId } = workflowInfo();
  const db = proxyActivities<CatalogActivities>(activityProfiles(DEFAULT_RETRY).db);
  // Handlers first, so a query or pause that arrives while the import begins is answered.
  let progress: Progress = input.carried?.progress ?? emptyProgress();
  let pauseRecorded = false;
  function requestPause(reason: string) {
    progress.paused = true;
    progress.pauseReason = reason;
    pauseRecorded = false;
  }
  setHandler(progressQuery, () => progress);
  setHandler(pauseSignal, (arg) => requestPause(arg?.reason ?? 'paused by request'));
  setHandler(resumeSignal, () => void (progress.paused = false));

  let state: CarriedState;
  if (input.carried) {
    state = input.carried;
  } else {
    const begun = await db.beginImport({
      operatorId: input.operatorId,
      mode: input.mode,
      workflowId,
      runId,
      settings: input.settings,
    });
    if (begun.outcome === 'skipped') {
      setStatus(input, 'skipped');
      return { status: 'skipped', message: begun.message, progress: begun.progress };
    }
    state = begun.state;
    state.progress = { ...state.progress, paused: progress.paused, pauseReason: progress.pauseReason };
  }
  progress = state.progress;
  const { settings } = state;
  const http = proxyActivities<CatalogActivities>(activityProfiles(settings.retry).http);

  /** Waits durably while paused; the pause is persisted so later runs and the catalog page see it. */
  async function holdWhilePaused(lastErrors: string[] = []) {
    if (!progress.paused) return;
    if (!pauseRecorded) {
      pauseRecorded = true;
      await db.setOperatorPaused({
        operatorId: input.operatorId,
        paused: true,
        reason: progress.pauseReason,
        lastErrors,
        importRunId: state.importRunId,
        progress,
      });
      // Reported as paused only once the pause is durable in PostgreSQL.
      setStatus(input, (progress.status = 'paused'));
    }
    await condition(() => !progress.paused);
    await db.setOperatorPaused({
      operatorId: input.operatorId,
      paused: false,
      reason: null,
      importRunId: state.importRunId,
      progress,
    });
    progress.pauseReason = null;
    setStatus(input, (progress.status = 'running'));
  }

  const lastErrors: string[] = [];
  let startedThisRun = 0;
  async function importTour(externalId: string) {
    progress.queued--;
    progress.running++;
    try {
      const r = await executeChild(ImportTour, {
        workflowId: importTourWorkflowId(input.operatorId, externalId),
        args: [
          {
            operatorId: input.operatorId,
            externalId,
            force: settings.force,
            imageTaskQueue: settings.imageTaskQueue,
            retry: settings.retry,
          },
        ],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      });
      if (r.outcome === 'removed') progress.removed++;
      else if (r.outcome === 'unchanged') progress.unchanged++;
      else progress.done++;
      tally(true);
    } catch (err) {
      if (isCancellation(err)) throw err;
      // A push import of the same tour is already running: it imports the newest data.
      if (err instanceof WorkflowExecutionAlreadyStartedError) return void progress.done++;
      progress.failed++;
      const { type, message } = rootFailure(err);
      lastErrors.push(`${externalId}: ${type}: ${message}`.slice(0, 300));
      lastErrors.splice(0, Math.max(0, lastErrors.length - 5));
      await db.recordTourFailure({
        operatorId: input.operatorId,
        externalId,
        kind: type,
        message,
        workflowId,
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
      requestPause(trip);
      state.consecutiveFailures = 0;
      state.recent = [];
    }
  }

  try {
    setStatus(input, progress.status);
    const pending = [...state.pending];
    while (pending.length || !state.listingDone) {
      await holdWhilePaused(lastErrors);
      if (historyIsLarge()) {
        // Children cannot move to the new run: let the window drain, then carry the position over.
        await condition(() => progress.running === 0);
        await continueAsNew<typeof ImportOperator>({ ...input, carried: { ...state, pending } });
      }
      if (!pending.length) {
        const page = await listNextPage();
        if (!page) continue; // listing failed: the operator is paused; try again after resume
        pending.push(...page);
        continue;
      }
      await condition(() => progress.running < settings.window || progress.paused);
      if (progress.paused) continue;
      startedThisRun++;
      // Failures are counted inside; a cancellation surfaces through the main loop's own awaits.
      void importTour(pending.shift()!).catch(() => undefined);
    }
    await condition(() => progress.running === 0);
    await holdWhilePaused(lastErrors);
    if (settings.fullListing)
      progress.removed += (
        await db.completeListing({ operatorId: input.operatorId, importRunId: state.importRunId })
      ).removed;
    return await finish('completed', summary(progress));
  } catch (err) {
    if (isCancellation(err)) {
      // Children were asked to cancel too; wait for them, then record the run even though this
      // workflow is itself being cancelled.
      await CancellationScope.nonCancellable(async () => {
        await condition(() => progress.running === 0, '1 minute');
        await finish('cancelled', `import cancelled; ${summary(progress)}`);
      });
    }
    throw err;
  }

  /** Long runs continue as new well before Temporal's history limits (also when every tour is unchanged). */
  function historyIsLarge(): boolean {
    const info = workflowInfo();
    return (
      startedThisRun >= settings.toursPerRun ||
      info.historyLength > MAX_HISTORY_EVENTS ||
      info.continueAsNewSuggested
    );
  }

  async function listNextPage(): Promise<string[] | undefined> {
    try {
      const page = await http.listPage({
        operatorId: input.operatorId,
        importRunId: state.importRunId,
        position: state.position,
        settings,
      });
      state.position = page.next;
      state.listingDone = page.next === undefined;
      state.deltaMark = page.deltaMark ?? state.deltaMark;
      progress.listed += page.listed;
      progress.unchanged += page.unchanged;
      progress.removed += page.removed;
      progress.invalid += page.invalid;
      progress.failed += page.invalid;
      progress.queued += page.toImport.length;
      return page.toImport;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const { type, message } = rootFailure(err);
      requestPause(`listing failed: ${type}: ${message}`.slice(0, 500));
      return undefined;
    }
  }

  async function finish(status: ImportStatus, message: string): Promise<ImportOperatorResult> {
    progress.status = status;
    setStatus(input, status);
    await db.finishImport({
      operatorId: input.operatorId,
      importRunId: state.importRunId,
      workflowId,
      status,
      progress,
      message,
      deltaMark: status === 'completed' ? state.deltaMark : undefined,
    });
    return { status, message, progress };
  }
}

function setStatus(input: ImportOperatorInput, status: ImportStatus) {
  upsertSearchAttributes({
    [SEARCH_ATTRIBUTES.operatorId]: [input.operatorId],
    [SEARCH_ATTRIBUTES.importMode]: [input.mode],
    [SEARCH_ATTRIBUTES.importStatus]: [status],
  });
}

function summary(p: Progress): string {
  return `listed ${p.listed}, imported ${p.done}, unchanged ${p.unchanged}, removed ${p.removed}, failed ${p.failed}`;
}
