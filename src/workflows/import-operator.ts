import {
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CatalogActivities } from '../activities/catalog.js';
import type { ImportAlerts } from '../activities/notify.js';
import { operatorPriority, QUERIES, SEARCH_ATTRIBUTES, SIGNALS } from '../constants.js';
import { rootFailure } from './failure.js';
import { tourFanOut } from './fan-out.js';
import { validateImportOperatorInput } from './input.js';
import { PATCHES } from './patches.js';
import { createNotifier } from './notify.js';
import { pauseControl } from './pause.js';
import { countPage, emptyProgress, summary } from './progress.js';
import { activityProfiles, DEFAULT_RETRY } from './retry.js';
import {
  currentWindow,
  freeRoom,
  grantRoom,
  makeRoomSignal,
  roomFreedSignal,
  ROOM_LEASE_MS,
  signalImports,
  type RoomRequest,
} from './room.js';
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
export async function ImportOperator(unchecked: ImportOperatorInput): Promise<ImportOperatorResult> {
  const input = validateImportOperatorInput(unchecked);
  const { workflowId, runId } = workflowInfo();
  const priority = operatorPriority(input.operatorId);
  const db = proxyActivities<CatalogActivities>({ ...activityProfiles(DEFAULT_RETRY).db, priority });
  // Handlers first, so a query or pause that arrives while the import begins is answered.
  let progress: Progress = input.carried?.progress ?? emptyProgress();
  const notifier = createNotifier({
    operatorId: input.operatorId,
    workflowId,
    runId,
    retry: { ...DEFAULT_RETRY, ...input.settings?.retry },
  });
  const pause = pauseControl({
    operatorId: input.operatorId,
    progress: () => progress,
    state: () => state,
    db,
    notifier,
    setStatus: (status) => setStatus(input, status),
  });
  setHandler(progressQuery, () => progress);
  setHandler(pauseSignal, (arg) => pause.request(arg?.reason ?? 'paused by request', 'person'));
  setHandler(resumeSignal, () => void (progress.paused = false));
  // A smaller import asks for room (see room.ts); one that asks before this import has begun waits.
  let started: CarriedState | undefined = undefined;
  const early: RoomRequest[] = [];
  const makeRoom = (s: CarriedState, request: RoomRequest) => {
    if (grantRoom(s, request, Date.now()))
      log.info('Making room for a smaller import', { ...request, window: currentWindow(s, Date.now()) });
  };
  setHandler(makeRoomSignal, (request) => (started ? makeRoom(started, request) : void early.push(request)));
  setHandler(roomFreedSignal, ({ importRunId }) => started && freeRoom(started, importRunId));

  let state: CarriedState;
  let otherImports: string[] = [];
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
    otherImports = begun.otherImports;
  }
  progress = state.progress;
  started = state;
  for (const request of early) makeRoom(state, request);
  const { settings } = state;
  const http = proxyActivities<CatalogActivities>({ ...activityProfiles(settings.retry).http, priority });

  const tours = tourFanOut({
    operatorId: input.operatorId,
    workflowId,
    state,
    db,
    onTrip: pause.trip,
    probeOutcome: pause.probeOutcome,
  });
  let startedThisRun = 0;
  let pagesListed = 0;
  let toursListedToImport = 0;

  try {
    setStatus(input, progress.status);
    const pending = [...state.pending];
    while (pending.length || !state.listingDone) {
      await pause.hold(tours.lastErrors);
      if (historyIsLarge()) {
        // Children cannot move to the new run: let the window drain, then carry the position over.
        await condition(() => progress.running === 0);
        await notifier.drain();
        await continueAsNew<typeof ImportOperator>({ ...input, carried: { ...state, pending } });
      }
      // A first page that came back full may be all there is: list the second at once to know.
      if (!pending.length || (pagesListed === 1 && !state.listingDone && !input.carried)) {
        const page = await listNextPage();
        if (!page) continue; // listing failed: the operator is paused; try again after resume
        pending.push(...page);
        continue;
      }
      await condition(
        () => progress.running < pause.window(currentWindow(state, Date.now())) || progress.paused,
      );
      if (progress.paused) continue;
      startedThisRun++;
      tours.start(pending.shift()!);
    }
    await condition(() => progress.running === 0);
    await pause.hold(tours.lastErrors);
    const held = await settleRemovals();
    return await finish('completed', summary(progress) + held);
  } catch (err) {
    if (isCancellation(err)) {
      // Children were asked to cancel too; wait for them, then record the run even though this
      // workflow is itself being cancelled.
      await CancellationScope.nonCancellable(async () => {
        await condition(() => progress.running === 0, '1 minute');
        await finish('cancelled', `import cancelled; ${summary(progress)}`);
      });
    } else if (!(err instanceof ContinueAsNew)) {
      const { type, message } = rootFailure(err);
      notifier.send('import-failed', `import failed: ${type}: ${message}`.slice(0, 500));
      await notifier.drain();
    }
    throw err;
  }

  /**
   * Applies the removals this import has evidence for (tombstones; after a complete full listing, the
   * tours it did not mention), unless they are more than the operator's removal guard allows: then all
   * are held for a person and the operator is paused (src/domain/removal-guard.ts).
   */
  async function settleRemovals(): Promise<string> {
    const run = { operatorId: input.operatorId, importRunId: state.importRunId };
    if (!patched(PATCHES.removalGuard)) {
      // Imports begun before the guard existed end as they began: removed during the listing.
      if (settings.fullListing) progress.removed += (await db.completeListing(run)).removed;
      return '';
    }
    const settled = await db.settleRemovals({ ...run, fullListing: settings.fullListing });
    progress.removed += settled.removed;
    if (!settled.held) return '';
    progress.heldRemovals = settled.held;
    notifier.send('paused', settled.reason ?? 'removals held', { pausedBy: 'removal-guard' });
    return `; ${settled.held} removals held and operator paused: ${settled.reason}`;
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
      countPage(progress, page);
      // Listed in full within its first two pages: a small import, which bigger ones make room for.
      toursListedToImport += page.toImport.length;
      if (
        ++pagesListed <= 2 &&
        state.listingDone &&
        !input.carried &&
        toursListedToImport &&
        otherImports.length
      ) {
        state.roomAskedOf = otherImports;
        const request: RoomRequest = {
          importRunId: state.importRunId,
          operatorId: input.operatorId,
          tours: toursListedToImport,
          untilMs: Date.now() + ROOM_LEASE_MS,
        };
        void signalImports(otherImports, makeRoomSignal, request);
      }
      return page.toImport;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const { type, message } = rootFailure(err);
      pause.trip(`listing failed: ${type}: ${message}`.slice(0, 500));
      return undefined;
    }
  }

  async function finish(status: ImportStatus, message: string): Promise<ImportOperatorResult> {
    progress.status = status;
    setStatus(input, status);
    if (state.roomAskedOf?.length)
      void signalImports(state.roomAskedOf, roomFreedSignal, { importRunId: state.importRunId });
    pause.ended(status);
    const alerts = await db.finishImport({
      operatorId: input.operatorId,
      importRunId: state.importRunId,
      workflowId,
      status,
      progress,
      message,
      // Tours that failed for a transient reason are retried by the next delta only if the mark stays.
      deltaMark: status === 'completed' && !state.transientFailures ? state.deltaMark : undefined,
    });
    await notifyEnd(status, message, alerts);
    return { status, message, progress };
  }

  /** What the end of an import tells the team: cancelled, and the alerts finishImport found. */
  async function notifyEnd(status: ImportStatus, message: string, alerts: ImportAlerts | undefined) {
    if (status === 'cancelled') notifier.send('import-cancelled', message);
    if (alerts?.failingRuns)
      notifier.send(
        'failing-runs',
        `${alerts.failingRuns} imports in a row had failed tours; the last: ${message}`,
      );
    if (alerts?.staleMarkSince)
      notifier.send(
        'delta-mark-stale',
        `the delta mark has not moved since ${alerts.staleMarkSince}: no import since then completed without transient failures`,
        // Once per stuck mark, not at every import that finds it still stuck.
        { dedupKey: `delta-mark-stale:${input.operatorId}:${alerts.staleMarkSince}` },
      );
    await notifier.drain();
  }
}

function setStatus(input: ImportOperatorInput, status: ImportStatus) {
  upsertSearchAttributes({
    [SEARCH_ATTRIBUTES.operatorId]: [input.operatorId],
    [SEARCH_ATTRIBUTES.importMode]: [input.mode],
    [SEARCH_ATTRIBUTES.importStatus]: [status],
  });
}
