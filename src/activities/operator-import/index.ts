import { withFailureMappingAll } from '../failures.js';
import type { OperatorImportDeps } from './deps.js';
import { dryRunListing, type DryRunInput } from './dry-run.js';
import { listPage, type ListPageInput } from './listing.js';
import { settleRemovals, type SettleRemovalsInput } from './removals.js';
import * as runs from './runs.js';

export type { OperatorImportDeps, OperatorSchedules } from './deps.js';
export type { BegunImport } from './runs.js';
export type { DryRunReport } from './dry-run.js';

/**
 * The activities of an operator's import (ImportOperator), and the bookkeeping ImportTour shares:
 * the run and its lock (runs.ts), a listing page and what to import of it (listing.ts), the removals
 * it settles at its end (removals.ts). The keys are activity types: they live in histories.
 */
export function createOperatorImportActivities(deps: OperatorImportDeps) {
  // Every activity maps its failures (a PostgreSQL data error is DataRejected, not retried for ever).
  return withFailureMappingAll({
    beginImport: (a: runs.BeginImportInput) => runs.beginImport(deps, a),
    listPage: (a: ListPageInput) => listPage(deps, a),
    settleRemovals: (a: SettleRemovalsInput) => settleRemovals(deps, a),
    setOperatorPaused: (a: runs.SetOperatorPausedInput) => runs.setOperatorPaused(deps, a),
    recordTourFailure: (a: Parameters<typeof runs.recordTourFailure>[1]) => runs.recordTourFailure(deps, a),
    recordTourRun: (a: runs.TourRunInput) => runs.recordTourRun(deps, a),
    finishImport: (a: runs.FinishImportInput) => runs.finishImport(deps, a),
    dryRunListing: (a: DryRunInput) => dryRunListing(deps, a),
  });
}

export type OperatorImportActivities = ReturnType<typeof createOperatorImportActivities>;
