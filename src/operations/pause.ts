import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { SIGNALS } from '../constants.js';
import { setPaused } from '../db/operators.js';
import { inTransaction, type Pool } from '../db/pool.js';
import * as removals from '../db/removals.js';
import type { NotificationEvent } from '../domain/notifications.js';
import { deliver } from '../notify/deliver.js';
import type { Sink } from '../notify/sinks.js';
import { pauseOperatorSchedules, unpauseOperatorSchedules } from '../schedules/apply.js';
import { requireOperator } from './operators.js';

export interface PauseResult {
  operatorId: string;
  paused: boolean;
  reason: string | null;
  /** The running import that was signalled, if any. */
  signalled: string | null;
  /** Schedules paused or unpaused (empty when `schedules apply` never ran). */
  schedules: string[];
  /** Removals the removal guard held, settled by this resume: applied, or discarded (the tours stay). */
  removals?: { applied: number; discarded: number };
}

export interface PauseDeps {
  pool: Pool;
  client: Client;
  /** The notification sinks, asked for only when no running import tells the team itself. */
  sinks?: () => Promise<Sink[]>;
}

/**
 * Pauses an operator everywhere it can run from: the flag in PostgreSQL (new imports are skipped),
 * the running import (it finishes the tours in flight and waits), and its schedules.
 */
export async function pauseOperator(
  deps: PauseDeps,
  operatorId: string,
  reason = 'paused by an operator of tour-import',
): Promise<PauseResult> {
  const op = await requireOperator(deps.pool, operatorId);
  // The import to signal is the one holding the lock as the pause itself was written: an import that
  // begins at the same moment either finds the operator paused or is found here (acquireImportLock).
  const paused = await setPaused(deps.pool, operatorId, true, reason, op.lastErrors);
  const holder = paused?.runningWorkflowId ?? null;
  // Told here, running import or not: one that is closing would record the pause too late to tell it.
  const signalled = await signalRunning(deps.client, holder, SIGNALS.pause, { reason, told: true });
  const schedules = await pauseOperatorSchedules(deps.client, operatorId, `operator paused: ${reason}`);
  await notifyOnce(deps, operatorId, 'paused', reason);
  return { operatorId, paused: true, reason, signalled, schedules };
}

/**
 * Reverses pauseOperator, whether the pause came from a person, the circuit breaker or the removal
 * guard. Removals the guard held are applied with `applyRemovals`, else discarded: the tours stay.
 */
export async function resumeOperator(
  deps: PauseDeps,
  operatorId: string,
  options: { applyRemovals?: boolean } = {},
): Promise<PauseResult> {
  const op = await requireOperator(deps.pool, operatorId);
  const settled = await inTransaction(deps.pool, async (tx) => {
    const applied = options.applyRemovals ? await removals.apply(tx, operatorId, { held: true }) : 0;
    const discarded = await removals.discardHeld(tx, operatorId);
    const resumed = await setPaused(tx, operatorId, false, null);
    return { applied, discarded, holder: resumed?.runningWorkflowId ?? null };
  });
  const signalled = await signalRunning(deps.client, settled.holder, SIGNALS.resume, { told: true });
  const schedules = await unpauseOperatorSchedules(deps.client, operatorId, 'operator resumed');
  if (op.paused) await notifyOnce(deps, operatorId, 'resumed', 'resumed by a person');
  const { applied, discarded } = settled;
  return { operatorId, paused: false, reason: null, signalled, schedules, removals: { applied, discarded } };
}

/**
 * One attempt per sink, recorded like the notify activity's; a sink that is down is recorded as failed.
 * The CLI and the API tell a person's pause and resume themselves, whether an import runs or not: the
 * import they signal records it without telling it again (`told` in the signal).
 */
async function notifyOnce(deps: PauseDeps, operatorId: string, event: NotificationEvent, message: string) {
  const sinks = (await deps.sinks?.()) ?? [];
  if (!sinks.length) return;
  const dedupKey = `cli:${operatorId}:${event}:${new Date().toISOString()}`;
  const n = {
    event,
    operatorId,
    message,
    dedupKey,
    ...(event === 'paused' && { pausedBy: 'person' as const }),
  };
  await deliver({ pool: deps.pool, sinks }, n, true);
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
