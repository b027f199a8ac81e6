import * as operators from '../../db/operators.js';
import * as removals from '../../db/removals.js';
import * as runs from '../../db/runs.js';
import type { PausedBy } from '../../domain/notifications.js';
import {
  emptyProgress,
  resolveSettings,
  type ImportMode,
  type ImportSettings,
  type ImportStatus,
  type Progress,
  type ResolvedSettings,
  type TourOutcome,
} from '../../domain/operator-import.js';
import { activityExecutionKey } from '../failures.js';
import { importAlerts, type ImportAlerts } from '../notify.js';
import { requireOperator, type OperatorImportDeps } from './deps.js';

/** How an import began: its run and settings, or why it is skipped (operator paused, another import). */
export type BegunImport =
  | { outcome: 'skipped'; message: string; progress: Progress }
  | { outcome: 'started'; importRunId: number; settings: ResolvedSettings; otherImports: string[] };

export interface BeginImportInput {
  operatorId: string;
  mode: ImportMode;
  workflowId: string;
  runId: string;
  settings?: ImportSettings;
}

/** Takes the operator's import lock and opens the run, or says why this import is skipped. */
export async function beginImport(deps: OperatorImportDeps, a: BeginImportInput): Promise<BegunImport> {
  const { pool } = deps;
  const op = await requireOperator(pool, a.operatorId);
  const skip = async (message: string) => {
    await runs.startRun(pool, { ...a, status: 'skipped', message });
    return { outcome: 'skipped' as const, message, progress: emptyProgress('skipped') };
  };
  const lock = await takeImportLock(deps, a.operatorId, a.workflowId);
  if (lock.holder !== a.workflowId && lock.paused)
    return skip(`skipped: operator ${a.operatorId} is paused (${lock.pauseReason ?? 'no reason given'})`);
  if (lock.holder !== a.workflowId)
    return skip(`skipped: import ${lock.holder} already running for operator ${a.operatorId}`);
  const importRunId = await runs.startRun(pool, a);
  // Removals noted by imports that never finished are not acted on; this one counts from here.
  await removals.dropUnfinished(pool, a.operatorId, importRunId);
  await runs.setActiveAtStart(pool, importRunId, await removals.countActiveTours(pool, a.operatorId));
  const settings = resolveSettings(op.settings, a.settings, a.mode, op.deltaMark);
  // A small import asks these to make room for it once its listing shows how small it is.
  const otherImports = await operators.otherRunningImports(pool, a.operatorId);
  return { outcome: 'started', importRunId, settings, otherImports };
}

/** The lock after trying to take it: this workflow's, the running import's, or refused (paused). */
async function takeImportLock(deps: OperatorImportDeps, operatorId: string, workflowId: string) {
  let lock = await operators.acquireImportLock(deps.pool, operatorId, workflowId);
  const stale = lock.holder;
  if (stale && stale !== workflowId && !(await deps.isWorkflowRunning(stale))) {
    // The holder's workflow is gone (terminated, say): take its lock over and close its runs.
    lock = await operators.acquireImportLock(deps.pool, operatorId, workflowId, stale);
    if (lock.holder === workflowId) await runs.closeAbandonedRuns(deps.pool, stale);
  }
  return lock;
}

export interface FinishImportInput {
  operatorId: string;
  importRunId: number;
  workflowId: string;
  status: ImportStatus;
  progress: Progress;
  message: string;
  deltaMark?: string;
}

/**
 * Closes the run; the delta mark moves only when every tour up to it was handled. (Staged tours and
 * webhook ids are pruned by the scheduled Housekeeping workflow, not here.)
 */
export async function finishImport(deps: OperatorImportDeps, a: FinishImportInput): Promise<ImportAlerts> {
  const { pool } = deps;
  await runs.updateRun(pool, a.importRunId, {
    status: a.status,
    counts: counts(a.progress),
    message: a.message,
  });
  if (a.status === 'completed' && a.deltaMark) await operators.setDeltaMark(pool, a.operatorId, a.deltaMark);
  await operators.releaseImportLock(pool, a.operatorId, a.workflowId);
  return importAlerts(pool, a.operatorId);
}

export interface SetOperatorPausedInput {
  operatorId: string;
  paused: boolean;
  reason: string | null;
  lastErrors?: string[];
  importRunId: number;
  progress: Progress;
  pausedBy?: PausedBy;
  /** The half-open breaker resumes the import on its own after this long. */
  resumeInMs?: number;
}

export async function setOperatorPaused(deps: OperatorImportDeps, a: SetOperatorPausedInput) {
  await operators.setPaused(deps.pool, a.operatorId, a.paused, a.reason, a.lastErrors, a);
  // A pause or resume sent to the workflow alone (Web UI, `temporal workflow signal`) moves the schedules too.
  await (a.paused
    ? deps.schedules?.pause(a.operatorId, `operator paused: ${a.reason}`)
    : deps.schedules?.unpause(a.operatorId, 'operator resumed'));
  await runs.updateRun(deps.pool, a.importRunId, {
    status: a.paused ? 'paused' : 'running',
    counts: counts(a.progress),
    message: a.paused ? `paused: ${a.reason}` : undefined,
  });
}

export async function recordTourFailure(
  deps: OperatorImportDeps,
  a: { operatorId: string; externalId: string; kind: string; message: string; workflowId?: string },
) {
  await runs.recordFailure(deps.pool, { ...a, recordedBy: activityExecutionKey(a.externalId) });
}

export interface TourRunInput {
  operatorId: string;
  workflowId: string;
  runId: string;
  status: runs.RunStatus;
  outcome?: TourOutcome;
  message?: string;
}

/**
 * A single-tour import (a push, or started by hand) as an import_runs row of mode 'tour': opened
 * as running, then closed with its outcome. Idempotent per workflow run.
 */
export async function recordTourRun(deps: OperatorImportDeps, a: TourRunInput) {
  const { operatorId, workflowId, runId } = a;
  const id = await runs.startRun(deps.pool, { operatorId, workflowId, runId, mode: 'tour' });
  if (a.status === 'running') return;
  const one = (yes: boolean) => (yes ? 1 : 0);
  await runs.updateRun(deps.pool, id, {
    status: a.status,
    counts: {
      listed: 1,
      done: one(a.outcome === 'imported' || a.outcome === 'stale'),
      unchanged: one(a.outcome === 'unchanged'),
      removed: one(a.outcome === 'removed'),
      failed: one(a.status === 'failed'),
      invalid: 0,
    },
    message: a.message ?? a.outcome ?? null,
  });
}

function counts(p: Progress): runs.ImportCounts {
  const { listed, done, unchanged, failed, removed, invalid } = p;
  return { listed, done, unchanged, failed, removed, invalid };
}
