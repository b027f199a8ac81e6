import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { SIGNALS } from '../../constants.js';
import { setPaused } from '../../db/operators.js';
import type { Pool } from '../../db/pool.js';
import { pauseOperatorSchedules, unpauseOperatorSchedules } from '../../schedules/apply.js';
import { requireOperator } from './operators.js';

export interface PauseResult {
  operatorId: string;
  paused: boolean;
  reason: string | null;
  /** The running import that was signalled, if any. */
  signalled: string | null;
  /** Schedules paused or unpaused (empty when `schedules apply` never ran). */
  schedules: string[];
}

/**
 * Pauses an operator everywhere it can run from: the flag in PostgreSQL (new imports are skipped),
 * the running import (it finishes the tours in flight and waits), and its schedules.
 */
export async function pauseOperator(
  deps: { pool: Pool; client: Client },
  operatorId: string,
  reason = 'paused by an operator of tour-import',
): Promise<PauseResult> {
  const op = await requireOperator(deps.pool, operatorId);
  await setPaused(deps.pool, operatorId, true, reason, op.lastErrors);
  const signalled = await signalRunning(deps.client, op.runningWorkflowId, SIGNALS.pause, { reason });
  const schedules = await pauseOperatorSchedules(deps.client, operatorId, `operator paused: ${reason}`);
  return { operatorId, paused: true, reason, signalled, schedules };
}

/** Reverses pauseOperator, whether the pause came from a person or from the circuit breaker. */
export async function resumeOperator(
  deps: { pool: Pool; client: Client },
  operatorId: string,
): Promise<PauseResult> {
  const op = await requireOperator(deps.pool, operatorId);
  await setPaused(deps.pool, operatorId, false, null);
  const signalled = await signalRunning(deps.client, op.runningWorkflowId, SIGNALS.resume);
  const schedules = await unpauseOperatorSchedules(deps.client, operatorId, 'operator resumed');
  return { operatorId, paused: false, reason: null, signalled, schedules };
}

/** Signals the latest run of the import holding the operator's lock; a closed one is a stale lock. */
async function signalRunning(
  client: Client,
  workflowId: string | null,
  signal: string,
  ...args: unknown[]
): Promise<string | null> {
  if (!workflowId) return null;
  try {
    await client.workflow.getHandle(workflowId).signal(signal, ...args);
    return workflowId;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}
