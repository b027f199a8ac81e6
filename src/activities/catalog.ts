import { log } from '@temporalio/activity';
import type { OperatorAdapter, ListEntry } from '../operators/types.js';
import type { Pool } from '../db/pool.js';
import * as operators from '../db/operators.js';
import * as runs from '../db/runs.js';
import * as tours from '../db/tours.js';
import { tourContentHash } from '../domain/hash.js';
import { TASK_QUEUES } from '../constants.js';
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
import { activityExecutionKey, nonRetryable, withFailureMapping } from './failures.js';

export interface CatalogDeps {
  pool: Pool;
  adapterFor(operatorId: string): Promise<OperatorAdapter>;
  /** Whether a workflow holding an operator's import lock is still running (stale locks are taken over). */
  isWorkflowRunning(workflowId: string): Promise<boolean>;
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

  return {
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
      const settings = resolveSettings(op.settings, a.settings, a.mode, op.deltaMark);
      const state = newImportState(importRunId, settings);
      // A small import asks these to make room for it once its listing shows how small it is.
      const otherImports = await operators.otherRunningImports(pool, a.operatorId);
      return { outcome: 'started' as const, state, otherImports };
    },

    /** Lists one page and decides, against PostgreSQL in one batch, which tours need an import. */
    async listPage(a: {
      operatorId: string;
      importRunId: number;
      position?: string;
      settings: ResolvedSettings;
    }) {
      return withFailureMapping(async () => {
        const page = await (
          await deps.adapterFor(a.operatorId)
        ).listPage(a.position, {
          mode: a.settings.fullListing ? 'full' : 'delta',
          since: a.settings.since,
          pageSize: a.settings.pageSize,
        });
        const decided = await decide(pool, a.operatorId, a.importRunId, page.entries, a.settings);
        log.info('page listed', {
          operatorId: a.operatorId,
          listed: page.entries.length,
          toImport: decided.toImport.length,
          unchanged: decided.unchanged,
        });
        return { ...decided, listed: page.entries.length, next: page.next, deltaMark: page.deltaMark };
      });
    },

    /** After a complete, successful full listing: tours it did not mention are removed. */
    async completeListing(a: { operatorId: string; importRunId: number }) {
      return { removed: await tours.removeUnlisted(pool, a.operatorId, a.importRunId) };
    },

    async setOperatorPaused(a: {
      operatorId: string;
      paused: boolean;
      reason: string | null;
      lastErrors?: string[];
      importRunId: number;
      progress: Progress;
    }) {
      await operators.setPaused(pool, a.operatorId, a.paused, a.reason, a.lastErrors);
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

    /** Closes the run; the delta mark moves only when every tour up to it was handled. */
    async finishImport(a: {
      operatorId: string;
      importRunId: number;
      workflowId: string;
      status: ImportStatus;
      progress: Progress;
      message: string;
      deltaMark?: string;
    }) {
      await runs.updateRun(pool, a.importRunId, {
        status: a.status,
        counts: counts(a.progress),
        message: a.message,
      });
      if (a.status === 'completed' && a.deltaMark)
        await operators.setDeltaMark(pool, a.operatorId, a.deltaMark);
      await tours.sweepStaleStaged(pool, a.operatorId);
      await operators.pruneWebhookDeliveries(pool, a.operatorId);
      await operators.releaseImportLock(pool, a.operatorId, a.workflowId);
    },
  };
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
  let unchanged = 0;
  let removed = 0;
  let invalid = 0;
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.externalId)) continue; // an operator listing one tour twice imports it once
    seen.add(e.externalId);
    if (e.kind === 'removed') {
      if (await tours.markRemoved(pool, operatorId, e.externalId)) removed++;
    } else if (e.kind === 'invalid') {
      invalid++;
      await runs.recordFailure(pool, {
        operatorId,
        externalId: e.externalId,
        kind: 'TourValidationFailed',
        message: e.error,
        recordedBy: activityExecutionKey(e.externalId),
      });
    } else if (needsImport(e, known.get(e.externalId), s.force)) {
      toImport.push(e.externalId);
    } else {
      unchanged++;
    }
  }
  return { toImport, unchanged, removed, invalid };
}

function needsImport(
  e: Extract<ListEntry, { kind: 'active' }>,
  stored: tours.StoredTourState | undefined,
  force: boolean,
) {
  if (force || !stored || stored.status === 'removed') return true;
  if (e.tour) return tourContentHash(e.tour) !== stored.contentHash;
  if (e.sourceUpdatedAt && stored.sourceUpdatedAt)
    return Date.parse(e.sourceUpdatedAt) > Date.parse(stored.sourceUpdatedAt);
  return true; // no data and no date in the listing (dialect C): only the detail fetch can tell
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
