import { log } from '@temporalio/activity';
import type { OperatorAdapter, ListEntry } from '../operators/types.js';
import { inTransaction, type Pool } from '../db/pool.js';
import * as operators from '../db/operators.js';
import * as removals from '../db/removals.js';
import * as runs from '../db/runs.js';
import * as tours from '../db/tours.js';
import { tourContentHash } from '../domain/hash.js';
import type { Tour } from '../domain/tour.js';
import {
  DEFAULT_REMOVAL_GUARD,
  heldRemovalsReason,
  removalsNeedAPerson,
  type RemovalGuard,
} from '../domain/removal-guard.js';
import { TASK_QUEUES } from '../constants.js';
import type { PausedBy } from '../domain/notifications.js';
import { DEFAULT_BREAKER } from '../workflows/breaker.js';
import { emptyProgress, newImportState } from '../workflows/progress.js';
import { DEFAULT_RETRY } from '../workflows/retry.js';
import type {
  ImportMode,
  ImportSettings,
  ImportStatus,
  Progress,
  ResolvedSettings,
  TourOutcome,
} from '../workflows/types.js';
import { importAlerts, type ImportAlerts } from './notify.js';
import { activityExecutionKey, activityWorkflowId, nonRetryable, withFailureMappingAll } from './failures.js';

export interface CatalogDeps {
  pool: Pool;
  adapterFor(operatorId: string): Promise<OperatorAdapter>;
  /** Whether a workflow holding an operator's import lock is still running (stale locks are taken over). */
  isWorkflowRunning(workflowId: string): Promise<boolean>;
  /** The operator's Temporal Schedules, paused and unpaused with the operator (unset: none to move). */
  schedules?: OperatorSchedules;
}

/** One owner of pause state: whoever pauses or resumes an operator moves its schedules too. */
export interface OperatorSchedules {
  pause(operatorId: string, note: string): Promise<unknown>;
  unpause(operatorId: string, note: string): Promise<unknown>;
}

export function createCatalogActivities(deps: CatalogDeps) {
  const { pool } = deps;

  async function requireOperator(operatorId: string) {
    const op = await operators.getOperator(pool, operatorId);
    if (!op) {
      throw nonRetryable(
        'UnknownOperator',
        `Unknown operator "${operatorId}": it is not configured (run \`tour-import operators sync\`).`,
      );
    }
    return op;
  }

  /**
   * At the end of an import: after a complete, successful full listing the active tours it did not
   * mention are noted for removal too; then every removal this import noted is applied, or, when they
   * are more than the operator's removal guard allows, all held for a person and the operator paused.
   * One transaction, its outcome stored with the run: a retry after the commit returns the same.
   */
  async function settleRemovals(a: {
    operatorId: string;
    importRunId: number;
    fullListing: boolean;
  }): Promise<runs.SettledRemovals> {
    const op = await requireOperator(a.operatorId);
    const guard = removalGuard(op.settings);
    const settled = await inTransaction(pool, async (tx) => {
      const state = await runs.removalState(tx, a.importRunId);
      if (state.settled) return state.settled;
      // (Imports begun before the guard existed did not count their active tours: count them now.)
      const activeAtStart = state.activeAtStart ?? (await removals.countActiveTours(tx, a.operatorId));
      if (a.fullListing) await removals.noteUnlisted(tx, a.operatorId, a.importRunId);
      const noted = await removals.countPending(tx, a.operatorId, a.importRunId);
      let outcome: runs.SettledRemovals;
      if (!removalsNeedAPerson(noted, activeAtStart, guard)) {
        outcome = {
          removed: await removals.apply(tx, a.operatorId, { importRunId: a.importRunId }),
          held: 0,
        };
      } else {
        const held = await removals.hold(tx, a.operatorId, a.importRunId);
        const reason = heldRemovalsReason(a.operatorId, held, activeAtStart, guard);
        await operators.setPaused(tx, a.operatorId, true, reason, op.lastErrors, {
          pausedBy: 'removal-guard',
        });
        outcome = { removed: 0, held, reason };
      }
      await runs.setRemovalsSettled(tx, a.importRunId, outcome);
      return outcome;
    });
    if (settled.held) {
      log.warn('removals held for a person', { operatorId: a.operatorId, ...settled });
      await deps.schedules?.pause(a.operatorId, `operator paused: ${settled.reason}`);
    }
    return settled;
  }

  // Every activity maps its failures (a PostgreSQL data error is DataRejected, not retried for ever).
  return withFailureMappingAll({
    /** Takes the operator's import lock and opens the run, or says why this import is skipped. */
    async beginImport(a: {
      operatorId: string;
      mode: ImportMode;
      workflowId: string;
      runId: string;
      settings?: ImportSettings;
    }) {
      const op = await requireOperator(a.operatorId);
      const skip = async (message: string) => {
        await runs.startRun(pool, { ...a, status: 'skipped', message });
        return {
          outcome: 'skipped' as const,
          message,
          progress: emptyProgress('skipped'),
        };
      };
      if (op.paused)
        return skip(`skipped: operator ${a.operatorId} is paused (${op.pauseReason ?? 'no reason given'})`);
      let holder = await operators.acquireImportLock(pool, a.operatorId, a.workflowId);
      if (holder && holder !== a.workflowId && !(await deps.isWorkflowRunning(holder))) {
        const stale = holder;
        holder = await operators.acquireImportLock(pool, a.operatorId, a.workflowId, stale);
        if (holder === a.workflowId) await runs.closeAbandonedRuns(pool, stale);
      }
      if (holder !== a.workflowId)
        return skip(`skipped: import ${holder} already running for operator ${a.operatorId}`);
      const importRunId = await runs.startRun(pool, a);
      // Removals noted by imports that never finished are not acted on; this one counts from here.
      await removals.dropUnfinished(pool, a.operatorId, importRunId);
      await runs.setActiveAtStart(pool, importRunId, await removals.countActiveTours(pool, a.operatorId));
      const settings = resolveSettings(op.settings, a.settings, a.mode, op.deltaMark);
      const state = newImportState(importRunId, settings);
      // A small import asks these to make room for it once its listing shows how small it is.
      const otherImports = await operators.otherRunningImports(pool, a.operatorId);
      return { outcome: 'started' as const, state, otherImports };
    },

    /**
     * Lists one page and decides, against PostgreSQL in one batch, which tours need an import. Where the
     * listing carries whole tours (dialects A and B) those are staged here, and their ImportTour children
     * import the staged record without another call to the operator.
     */
    async listPage(a: {
      operatorId: string;
      importRunId: number;
      position?: string;
      settings: ResolvedSettings;
    }) {
      const page = await (
        await deps.adapterFor(a.operatorId)
      ).listPage(a.position, {
        mode: a.settings.fullListing ? 'full' : 'delta',
        since: a.settings.since,
        pageSize: a.settings.pageSize,
      });
      const decided = await decide(pool, a.operatorId, a.importRunId, page.entries, a.settings);
      // A delta lists only what changed: tours whose images are to be tried again join its first page.
      if (a.position === undefined && !a.settings.fullListing)
        decided.toImport.push(...(await stageImageRetries(pool, a.operatorId, decided.toImport)));
      log.info('page listed', {
        operatorId: a.operatorId,
        listed: page.entries.length,
        toImport: decided.toImport.length,
        unchanged: decided.unchanged,
      });
      return { ...decided, listed: page.entries.length, next: page.next, deltaMark: page.deltaMark };
    },

    settleRemovals,

    /** Before #14: a complete full listing removed the tours it did not mention; kept for running imports. */
    async completeListing(a: { operatorId: string; importRunId: number }) {
      const settled = await settleRemovals({ ...a, fullListing: true });
      return { removed: settled.removed };
    },

    async setOperatorPaused(a: {
      operatorId: string;
      paused: boolean;
      reason: string | null;
      lastErrors?: string[];
      importRunId: number;
      progress: Progress;
      pausedBy?: PausedBy;
      /** The half-open breaker resumes the import on its own after this long. */
      resumeInMs?: number;
    }) {
      await operators.setPaused(pool, a.operatorId, a.paused, a.reason, a.lastErrors, a);
      // A pause or resume sent to the workflow alone (Web UI, `temporal workflow signal`) moves the schedules too.
      await (a.paused
        ? deps.schedules?.pause(a.operatorId, `operator paused: ${a.reason}`)
        : deps.schedules?.unpause(a.operatorId, 'operator resumed'));
      await runs.updateRun(pool, a.importRunId, {
        status: a.paused ? 'paused' : 'running',
        counts: counts(a.progress),
        message: a.paused ? `paused: ${a.reason}` : undefined,
      });
    },

    async recordTourFailure(a: {
      operatorId: string;
      externalId: string;
      kind: string;
      message: string;
      workflowId?: string;
    }) {
      await runs.recordFailure(pool, { ...a, recordedBy: activityExecutionKey(a.externalId) });
    },

    /**
     * A single-tour import (a push, or started by hand) as an import_runs row of mode 'tour': opened
     * as running, then closed with its outcome. Idempotent per workflow run.
     */
    async recordTourRun(a: {
      operatorId: string;
      workflowId: string;
      runId: string;
      status: runs.RunStatus;
      outcome?: TourOutcome;
      message?: string;
    }) {
      const { operatorId, workflowId, runId } = a;
      const id = await runs.startRun(pool, { operatorId, workflowId, runId, mode: 'tour' });
      if (a.status === 'running') return;
      const one = (yes: boolean) => (yes ? 1 : 0);
      await runs.updateRun(pool, id, {
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
    },

    /**
     * Closes the run; the delta mark moves only when every tour up to it was handled. (Staged tours and
     * webhook ids are pruned by the scheduled Housekeeping workflow, not here.)
     */
    async finishImport(a: {
      operatorId: string;
      importRunId: number;
      workflowId: string;
      status: ImportStatus;
      progress: Progress;
      message: string;
      deltaMark?: string;
    }): Promise<ImportAlerts> {
      await runs.updateRun(pool, a.importRunId, {
        status: a.status,
        counts: counts(a.progress),
        message: a.message,
      });
      if (a.status === 'completed' && a.deltaMark)
        await operators.setDeltaMark(pool, a.operatorId, a.deltaMark);
      await operators.releaseImportLock(pool, a.operatorId, a.workflowId);
      return importAlerts(pool, a.operatorId);
    },
  });
}

export type CatalogActivities = ReturnType<typeof createCatalogActivities>;

function counts(p: Progress): runs.ImportCounts {
  return {
    listed: p.listed,
    done: p.done,
    unchanged: p.unchanged,
    failed: p.failed,
    removed: p.removed,
    invalid: p.invalid,
  };
}

async function decide(
  pool: Pool,
  operatorId: string,
  importRunId: number,
  entries: ListEntry[],
  s: ResolvedSettings,
) {
  const ids = entries.map((e) => e.externalId);
  const known = await tours.findTourStates(pool, operatorId, ids);
  if (s.fullListing) await tours.stampListed(pool, operatorId, ids, importRunId);
  const toImport: string[] = [];
  const toStage: { tour: Tour; contentHash: string }[] = [];
  const listedActive: string[] = [];
  let unchanged = 0;
  let invalid = 0;
  // A tour listed twice on a page is decided once, by its later entry: the feed orders by update time.
  const latest = new Map(entries.map((e) => [e.externalId, e]));
  for (const e of latest.values()) {
    if (e.kind === 'removed') {
      // Evidence, applied when the import ends unless the removal guard holds this import's removals.
      await removals.noteTombstone(pool, operatorId, e.externalId, importRunId);
    } else if (e.kind === 'invalid') {
      invalid++;
      await runs.recordFailure(pool, {
        operatorId,
        externalId: e.externalId,
        kind: 'TourValidationFailed',
        message: e.error,
        recordedBy: activityExecutionKey(e.externalId),
        workflowId: activityWorkflowId(),
      });
    } else {
      listedActive.push(e.externalId);
      const contentHash = e.tour && tourContentHash(e.tour);
      if (needsImport(e, contentHash, known.get(e.externalId), s.force)) {
        toImport.push(e.externalId);
        if (e.tour && contentHash) toStage.push({ tour: e.tour, contentHash });
      } else {
        unchanged++;
      }
    }
  }
  await removals.forgetPending(pool, operatorId, listedActive);
  await tours.stageTours(pool, toStage, new Date());
  return { toImport, unchanged, removed: 0, invalid };
}

function needsImport(
  e: Extract<ListEntry, { kind: 'active' }>,
  contentHash: string | undefined,
  stored: tours.StoredTourState | undefined,
  force: boolean,
) {
  if (force || !stored || stored.status === 'removed' || stored.retryImages) return true;
  if (contentHash) return contentHash !== stored.contentHash;
  if (e.sourceUpdatedAt && stored.sourceUpdatedAt)
    return Date.parse(e.sourceUpdatedAt) > Date.parse(stored.sourceUpdatedAt);
  return true; // no data and no date in the listing (dialect C): only the detail fetch can tell
}

/** Most tours a delta adds for their images' sake: a bound, should an image host be down for long. */
const IMAGE_RETRIES_PER_IMPORT = 500;

/** Stages, from our own copy, the tours whose images the import should try again (unless listed). */
async function stageImageRetries(pool: Pool, operatorId: string, listed: string[]): Promise<string[]> {
  const retry = (await tours.readToursToRetryImages(pool, operatorId, IMAGE_RETRIES_PER_IMPORT)).filter(
    (r) => !listed.includes(r.tour.externalId),
  );
  // Staged as of when we fetched them: a push that fetched later must not be refused as stale.
  for (const r of retry) await tours.stageTours(pool, [r], r.fetchedAt);
  return retry.map((r) => r.tour.externalId);
}

/** The operator's removal guard: its `removalGuard` setting over the defaults. */
function removalGuard(settings: Record<string, unknown>): RemovalGuard {
  return { ...DEFAULT_REMOVAL_GUARD, ...(settings['removalGuard'] as Partial<RemovalGuard> | undefined) };
}

function resolveSettings(
  stored: Record<string, unknown>,
  given: ImportSettings | undefined,
  mode: ImportMode,
  deltaMark: string | null,
): ResolvedSettings {
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const delta = stored['delta'] !== false;
  const fullListing = mode === 'full' || !delta || !deltaMark;
  return {
    window: given?.window ?? num(stored['window']) ?? 20,
    pageSize: given?.pageSize ?? num(stored['pageSize']) ?? 100,
    breaker: { ...DEFAULT_BREAKER, ...(stored['circuitBreaker'] as object | undefined), ...given?.breaker },
    toursPerRun: given?.toursPerRun ?? 1_000,
    imageTaskQueue: given?.imageTaskQueue ?? TASK_QUEUES.imageProcessing,
    force: given?.force ?? false,
    retry: { ...DEFAULT_RETRY, ...given?.retry },
    fullListing,
    since: fullListing ? undefined : (deltaMark ?? undefined),
  };
}
