import { condition, continueAsNew, workflowInfo } from '@temporalio/workflow';
import type { BegunImport } from '../activities/operator-import/index.js';
import { summary } from '../domain/operator-import.js';
import { dryRunImport } from './import-operator/dry-run.js';
import { applyOrHoldRemovals, closeImport, importInterrupted } from './import-operator/end.js';
import { operatorListing } from './import-operator/listing.js';
import { newImportState, openRun, type OperatorImportRun } from './import-operator/run.js';
import { showImportStatus } from './import-operator/search-attributes.js';
import { tourFanOut } from './fan-out.js';
import { validateImportOperatorInput } from './input.js';
import { currentWindow } from './room.js';
import type { CarriedState, ImportOperatorInput, ImportOperatorResult } from './types.js';

export { pauseSignal, progressQuery, resumeSignal } from './import-operator/signals.js';

/** A run continues as new well before Temporal's history limits. */
const MAX_HISTORY_EVENTS = 10_000;

/**
 * Imports one operator's catalog: lists it page by page, starts one ImportTour child per new or changed
 * tour in a bounded window, pauses on request or when its circuit breaker trips, and continues as new
 * before its history grows large. Only one import per operator runs at a time.
 */
export async function ImportOperator(unchecked: ImportOperatorInput): Promise<ImportOperatorResult> {
  const input = validateImportOperatorInput(unchecked);
  if (input.dryRun) return dryRunImport(input);
  const { run, began } = openRun(input);
  const begun = await beginOrCarryOn(run);
  if (begun.outcome === 'skipped') {
    showImportStatus(input, 'skipped');
    return { status: 'skipped', message: begun.message, progress: begun.progress };
  }
  const { state, otherImports } = begun;
  began(state);
  const { progress, pause } = run;
  const tours = tourFanOut({
    operatorId: input.operatorId,
    workflowId: run.workflowId,
    state,
    bookkeeping: run.bookkeeping,
    onTrip: pause.trip,
    probeOutcome: pause.probeOutcome,
  });
  const listing = operatorListing(run, state, otherImports);
  let startedThisRun = 0;
  try {
    showImportStatus(input, progress.status);
    const pending = [...state.pending];
    while (pending.length || !state.listingDone) {
      await pause.hold(tours.lastErrors);
      if (historyIsLarge(state, startedThisRun)) await continueWhenDrained(run, state, pending);
      if (listing.wantsPage(pending)) {
        pending.push(...((await listing.nextPage()) ?? [])); // none: listing failed, the operator paused
        continue;
      }
      await condition(
        () => progress.running < pause.window(currentWindow(state, Date.now())) || pause.paused,
      );
      if (pause.paused) continue;
      startedThisRun++;
      tours.start(pending.shift()!);
    }
    await condition(() => progress.running === 0);
    await pause.hold(tours.lastErrors);
    const held = await applyOrHoldRemovals(run, state);
    return await closeImport(run, state, 'completed', summary(progress) + held);
  } catch (err) {
    await importInterrupted(run, state, err);
    throw err;
  }
}

/**
 * A new import takes the operator's lock and opens its run (or is skipped: the operator is paused,
 * another import runs); a run continued as new carries on with the state it was handed.
 */
async function beginOrCarryOn(
  run: OperatorImportRun,
): Promise<
  | Extract<BegunImport, { outcome: 'skipped' }>
  | { outcome: 'started'; state: CarriedState; otherImports: string[] }
> {
  const { operatorId, mode, settings, carried } = run.input;
  if (carried) return { outcome: 'started', state: carried, otherImports: [] };
  const { workflowId, runId } = run;
  const begun = await run.bookkeeping.beginImport({ operatorId, mode, workflowId, runId, settings });
  if (begun.outcome === 'skipped') return begun;
  const state = newImportState(begun.importRunId, begun.settings);
  // A pause asked for while the import began is kept.
  state.progress = { ...state.progress, paused: run.progress.paused, pauseReason: run.progress.pauseReason };
  return { outcome: 'started', state, otherImports: begun.otherImports };
}

/** Long runs continue as new well before Temporal's history limits (also when every tour is unchanged). */
function historyIsLarge(state: CarriedState, startedThisRun: number): boolean {
  const info = workflowInfo();
  return (
    startedThisRun >= state.settings.toursPerRun ||
    info.historyLength > MAX_HISTORY_EVENTS ||
    info.continueAsNewSuggested
  );
}

/** Children cannot move to the new run: let the window drain, then carry the position over. */
async function continueWhenDrained(run: OperatorImportRun, state: CarriedState, pending: string[]) {
  await condition(() => run.progress.running === 0);
  await run.notifier.drain();
  // (Carried as it is once drained: the last children's outcomes are in it.)
  return continueAsNew<typeof ImportOperator>({ ...run.input, carried: { ...state, pending } });
}
