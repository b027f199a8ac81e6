import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WORKFLOW_TYPES } from '../../src/constants.js';
import type { Pool } from '../../src/db/pool.js';
import { verdict, type InvariantResult } from './types.js';

/** After the soak nothing is left running, locked or paused without a word. */

/** Workflows of these types that Temporal says are running (visibility first, confirmed by describe). */
export async function runningImports(
  client: Client,
  taskQueue: string,
  types: readonly string[] = [WORKFLOW_TYPES.importOperator, WORKFLOW_TYPES.importTour],
): Promise<{ workflowId: string; runId: string; type: string }[]> {
  const typeList = types.map((t) => `"${t}"`).join(', ');
  const query = `ExecutionStatus = "Running" AND TaskQueue = "${taskQueue}" AND WorkflowType IN (${typeList})`;
  const out: { workflowId: string; runId: string; type: string }[] = [];
  for await (const wf of client.workflow.list({ query })) {
    try {
      const { status } = await client.workflow.getHandle(wf.workflowId, wf.runId).describe();
      if (status.name === 'RUNNING') out.push({ workflowId: wf.workflowId, runId: wf.runId, type: wf.type });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  return out;
}

/** No ImportOperator or ImportTour runs in Temporal, and no import run is recorded as running. */
export async function noImportRunning(
  client: Client,
  pool: Pool,
  taskQueue: string,
): Promise<InvariantResult> {
  const inTemporal = (await runningImports(client, taskQueue)).map((w) => ({
    ...w,
    problem: 'still running in Temporal',
  }));
  const { rows: inDb } = await pool.query(
    `SELECT operator_id AS "operatorId", mode, workflow_id AS "workflowId", run_id AS "runId", started_at AS "startedAt"
       FROM import_runs WHERE status = 'running' ORDER BY started_at`,
  );
  const rows = [...inTemporal, ...inDb.map((r) => ({ ...r, problem: 'import run recorded as running' }))];
  return verdict('no ImportOperator or ImportTour left running', 'Temporal and import_runs', rows);
}

export async function noLockHeld(pool: Pool): Promise<InvariantResult> {
  const { rows } = await pool.query(
    `SELECT id AS "operatorId", running_workflow_id AS "lockHolder", running_since AS "since"
       FROM operators WHERE running_workflow_id IS NOT NULL ORDER BY id`,
  );
  const { rows: n } = await pool.query('SELECT count(*)::int AS n FROM operators');
  return verdict('no operator lock held', `${n[0].n} operators`, rows);
}

export async function pausesExplained(pool: Pool): Promise<InvariantResult> {
  const { rows: paused } = await pool.query(
    `SELECT id AS "operatorId", pause_reason AS "reason", paused_by AS "pausedBy"
       FROM operators WHERE paused ORDER BY id`,
  );
  const rows = paused
    .filter((p) => !p.reason?.trim() || !p.pausedBy)
    .map((p) => ({
      ...p,
      problem: !p.reason?.trim() ? 'paused without a reason' : 'paused without saying who paused it',
    }));
  return verdict(
    'every paused operator has a reason and who paused it',
    `${paused.length} paused operators`,
    rows,
  );
}
