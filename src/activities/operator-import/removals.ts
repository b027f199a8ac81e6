import { log } from '@temporalio/activity';
import { inTransaction } from '../../db/pool.js';
import * as operators from '../../db/operators.js';
import * as removals from '../../db/removals.js';
import * as runs from '../../db/runs.js';
import {
  DEFAULT_REMOVAL_GUARD,
  heldRemovalsReason,
  removalsNeedAPerson,
  type RemovalGuard,
} from '../../domain/removal-guard.js';
import { requireOperator, type OperatorImportDeps } from './deps.js';

export interface SettleRemovalsInput {
  operatorId: string;
  importRunId: number;
  fullListing: boolean;
}

/**
 * At the end of an import: after a complete, successful full listing the active tours it did not
 * mention are noted for removal too; then every removal this import noted is applied, or, when they
 * are more than the operator's removal guard allows, all held for a person and the operator paused.
 * One transaction, its outcome stored with the run: a retry after the commit returns the same.
 */
export async function settleRemovals(
  deps: OperatorImportDeps,
  a: SettleRemovalsInput,
): Promise<runs.SettledRemovals> {
  const op = await requireOperator(deps.pool, a.operatorId);
  const guard = removalGuard(op.settings);
  const settled = await inTransaction(deps.pool, async (tx) => {
    const state = await runs.removalState(tx, a.importRunId);
    if (state.settled) return state.settled;
    // (A run that never recorded its active tours at its start counts them now.)
    const activeAtStart = state.activeAtStart ?? (await removals.countActiveTours(tx, a.operatorId));
    if (a.fullListing) await removals.noteUnlisted(tx, a.operatorId, a.importRunId);
    const noted = await removals.countPending(tx, a.operatorId, a.importRunId);
    let outcome: runs.SettledRemovals;
    if (!removalsNeedAPerson(noted, activeAtStart, guard)) {
      outcome = { removed: await removals.apply(tx, a.operatorId, { importRunId: a.importRunId }), held: 0 };
    } else {
      const held = await removals.hold(tx, a.operatorId, a.importRunId);
      const reason = heldRemovalsReason(a.operatorId, held, activeAtStart, guard);
      await operators.setPaused(tx, a.operatorId, true, reason, op.lastErrors, { pausedBy: 'removal-guard' });
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

/** The operator's removal guard: its `removalGuard` setting over the defaults. */
function removalGuard(settings: Record<string, unknown>): RemovalGuard {
  return { ...DEFAULT_REMOVAL_GUARD, ...(settings['removalGuard'] as Partial<RemovalGuard> | undefined) };
}
