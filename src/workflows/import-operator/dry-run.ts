import { isCancellation, proxyActivities, setHandler } from '@temporalio/workflow';
import type { DryRunReport, OperatorImportActivities } from '../../activities/operator-import/index.js';
import { operatorPriority } from '../../constants.js';
import { DEFAULT_RETRY, emptyProgress } from '../../domain/operator-import.js';
import { rootFailure } from '../failure.js';
import { activityProfiles } from '../retry.js';
import type { ImportOperatorInput, ImportOperatorResult, Progress } from '../types.js';
import { showImportStatus } from './search-attributes.js';
import { progressQuery } from './signals.js';

/**
 * A dry run: an ImportOperator of its own mode, so it shows in the Web UI (`ImportMode = "dry-run"`) and
 * survives a worker's crash as any import does, but one that takes no lock, opens no run, starts no
 * child and trips no breaker. Its one activity lists and decides the catalog as an import would and
 * writes nothing (src/activities/operator-import/dry-run.ts); a listing that fails ends the dry run with
 * the reason, pausing no one.
 */
export async function dryRunImport(input: ImportOperatorInput): Promise<ImportOperatorResult> {
  const progress: Progress = emptyProgress();
  setHandler(progressQuery, () => progress);
  showImportStatus(input, 'running');
  const retry = { ...DEFAULT_RETRY, ...input.settings?.retry };
  const { dryRunListing } = proxyActivities<OperatorImportActivities>({
    ...activityProfiles(retry).http,
    // The whole catalog in one activity (dialect C fetches every tour): long, heartbeating.
    startToCloseTimeout: '2 hours',
    priority: operatorPriority(input.operatorId),
  });
  let report: DryRunReport;
  try {
    report = await dryRunListing({
      operatorId: input.operatorId,
      mode: input.mode,
      settings: input.settings,
    });
  } catch (err) {
    if (isCancellation(err)) throw err;
    const { type, message } = rootFailure(err);
    showImportStatus(input, (progress.status = 'failed'));
    return { status: 'failed', message: `dry run failed: ${type}: ${message}`.slice(0, 1_000), progress };
  }
  Object.assign(progress, {
    listed: report.listed,
    done: report.added.count + report.changed.count,
    unchanged: report.unchanged,
    removed: report.removed.count,
    invalid: report.invalid.count,
    failed: report.failed.count,
    status: 'completed',
  });
  showImportStatus(input, 'completed');
  return { status: 'completed', message: dryRunSummary(report), progress, dryRun: report };
}

/** One line: what the import would do. */
function dryRunSummary(r: DryRunReport): string {
  const removed = `${r.removed.count} removed${r.removalsHeld ? ' (held by the removal guard: the operator would be paused)' : ''}`;
  return (
    `dry run: would add ${r.added.count}, change ${r.changed.count}, leave ${r.unchanged} unchanged, ` +
    `${removed}; ${r.invalid.count} invalid, ${r.failed.count} failing; ${r.newImages.count} new images`
  );
}
