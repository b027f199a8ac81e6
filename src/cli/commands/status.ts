import type { Client } from '@temporalio/client';
import { listOperators, type OperatorRow } from '../../db/operators.js';
import { recentDeliveries, type DeliveryRow } from '../../db/notifications.js';
import type { Pool } from '../../db/pool.js';
import * as removals from '../../db/removals.js';
import type { HeldRemoval } from '../../db/removals.js';
import { listFailures, listRuns, type ImportRunRow } from '../../db/runs.js';
import type { Progress } from '../../workflows/types.js';
import { queryProgress } from './import.js';
import { requireOperator } from '../../operations/operators.js';
import { operatorState, type OperatorSummary } from './operators.js';

export interface OperatorStatus {
  id: string;
  name: string;
  dialect: string;
  state: OperatorSummary['state'];
  pauseReason: string | null;
  pausedAt: Date | null;
  pausedBy: OperatorRow['pausedBy'];
  /** When the half-open breaker resumes it on its own (with a probe). */
  resumeAt: Date | null;
  lastErrors: string[];
  runningWorkflowId: string | null;
  /** Live progress of the running import; null when none runs or Temporal could not be asked. */
  progress: Progress | null;
  lastRuns: ImportRunRow[];
  heldRemovals: HeldRemovals | null;
  /** The last notifications about the operator, delivered or not. */
  notifications: DeliveryRow[];
}

/** Removals the removal guard held for a person (`resume --apply-removals` or `resume`). */
export interface HeldRemovals {
  count: number;
  /** The first of them, by id. */
  tours: HeldRemoval[];
  /**
   * Tombstones are not sent again once the feed's cursor has moved on: discarding those keeps the
   * tours for good. Absences from a full listing are found again by the next full import.
   */
  discardIsFinal: boolean;
}

/**
 * What an operator is doing now and did lately. `client` may be the reason Temporal is unreachable:
 * everything PostgreSQL knows is still shown, without live progress.
 */
export async function operatorStatus(
  deps: { pool: Pool; client: Client | string },
  operatorId?: string,
  runsPerOperator = 5,
  notificationsPerOperator = 5,
): Promise<{ operators: OperatorStatus[]; warning: string | null }> {
  const rows = operatorId ? [await requireOperator(deps.pool, operatorId)] : await listOperators(deps.pool);
  const warning =
    typeof deps.client === 'string' && rows.some((r) => r.runningWorkflowId)
      ? `live progress unavailable: ${deps.client}`
      : null;
  const operators = await Promise.all(
    rows.map(async (op) => ({
      ...describe(op),
      progress: await liveProgress(deps.client, op.runningWorkflowId),
      lastRuns: await listRuns(deps.pool, op.id, runsPerOperator),
      heldRemovals: await heldRemovals(deps.pool, op.id),
      notifications: await recentDeliveries(deps.pool, {
        operatorId: op.id,
        limit: notificationsPerOperator,
      }),
    })),
  );
  return { operators, warning };
}

function describe(op: OperatorRow) {
  return {
    id: op.id,
    name: op.name,
    dialect: op.dialect,
    state: operatorState(op),
    pauseReason: op.pauseReason,
    pausedAt: op.pausedAt,
    pausedBy: op.pausedBy,
    resumeAt: op.resumeAt,
    lastErrors: op.lastErrors,
    runningWorkflowId: op.runningWorkflowId,
  };
}

async function liveProgress(client: Client | string, workflowId: string | null): Promise<Progress | null> {
  if (!workflowId || typeof client === 'string') return null;
  return queryProgress(client, workflowId);
}

async function heldRemovals(pool: Pool, operatorId: string, shown = 20): Promise<HeldRemovals | null> {
  const count = await removals.countHeld(pool, operatorId);
  if (!count) return null;
  const tours = await removals.listHeld(pool, operatorId, Math.max(shown, count));
  return {
    count,
    tours: tours.slice(0, shown),
    discardIsFinal: tours.some((t) => t.evidence === 'tombstone'),
  };
}

export async function runsCommand(deps: { pool: Pool }, operatorId: string, limit = 20) {
  await requireOperator(deps.pool, operatorId);
  return listRuns(deps.pool, operatorId, limit);
}

export async function failuresCommand(deps: { pool: Pool }, operatorId: string, limit = 50) {
  await requireOperator(deps.pool, operatorId);
  return listFailures(deps.pool, operatorId, limit);
}
