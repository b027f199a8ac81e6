import { CancellationScope, condition, ContinueAsNew, isCancellation } from '@temporalio/workflow';
import type { ImportAlerts } from '../../activities/notify.js';
import { summary } from '../../domain/operator-import.js';
import { rootFailure } from '../failure.js';
import { giveRoomBack } from '../room.js';
import type { CarriedState, ImportOperatorResult, ImportStatus } from '../types.js';
import type { OperatorImportRun } from './run.js';
import { showImportStatus } from './search-attributes.js';

/**
 * Applies the removals this import has evidence for (tombstones; after a complete full listing, the
 * tours it did not mention), unless they are more than the operator's removal guard allows: then all
 * are held for a person and the operator is paused (src/domain/removal-guard.ts). Returns what to add
 * to the import's closing message.
 */
export async function applyOrHoldRemovals(run: OperatorImportRun, state: CarriedState): Promise<string> {
  const { progress } = run;
  const { fullListing } = state.settings;
  const ids = { operatorId: run.input.operatorId, importRunId: state.importRunId };
  const settled = await run.bookkeeping.settleRemovals({ ...ids, fullListing });
  progress.removed += settled.removed;
  if (!settled.held) return '';
  progress.heldRemovals = settled.held;
  run.notifier.send('paused', settled.reason ?? 'removals held', { pausedBy: 'removal-guard' });
  return `; ${settled.held} removals held and operator paused: ${settled.reason}`;
}

/**
 * Closes the import: its status shown and recorded with the run, the imports it asked for room told
 * they have it back, the breaker's probe settled, and what the team should know sent.
 */
export async function closeImport(
  run: OperatorImportRun,
  state: CarriedState,
  status: ImportStatus,
  message: string,
): Promise<ImportOperatorResult> {
  const { progress } = run;
  progress.status = status;
  showImportStatus(run.input, status);
  giveRoomBack(state);
  run.pause.ended(status);
  const alerts = await run.bookkeeping.finishImport({
    operatorId: run.input.operatorId,
    importRunId: state.importRunId,
    workflowId: run.workflowId,
    status,
    progress,
    message,
    // Tours that failed for a transient reason are retried by the next delta only if the mark stays.
    deltaMark: status === 'completed' && !state.transientFailures ? state.deltaMark : undefined,
  });
  await notifyEnd(run, status, message, alerts);
  return { status, message, progress };
}

/**
 * An import that did not complete: a cancelled one waits for its children (asked to cancel too) and is
 * recorded even though the workflow itself is being cancelled; a failed one tells the team. The caller
 * rethrows.
 */
export async function importInterrupted(run: OperatorImportRun, state: CarriedState, err: unknown) {
  if (isCancellation(err)) {
    await CancellationScope.nonCancellable(async () => {
      await condition(() => run.progress.running === 0, '1 minute');
      await closeImport(run, state, 'cancelled', `import cancelled; ${summary(run.progress)}`);
    });
  } else if (!(err instanceof ContinueAsNew)) {
    const { type, message } = rootFailure(err);
    run.notifier.send('import-failed', `import failed: ${type}: ${message}`.slice(0, 500));
    await run.notifier.drain();
  }
}

/** What the end of an import tells the team: cancelled, and the alerts finishImport found. */
async function notifyEnd(
  run: OperatorImportRun,
  status: ImportStatus,
  message: string,
  alerts?: ImportAlerts,
) {
  const { notifier } = run;
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
      { dedupKey: `delta-mark-stale:${run.input.operatorId}:${alerts.staleMarkSince}` },
    );
  await notifier.drain();
}
