import type { Client, WorkflowHandle } from '@temporalio/client';
import { importTourWorkflowId, WORKFLOW_TYPES } from '../../src/constants.js';
import type { Pool } from '../../src/db/pool.js';
import type { DeliveryAttempt } from '../pushes.js';
import { verdict, type InvariantResult } from './types.js';

/** Accepted pushes held against the ImportTour runs Temporal has and the failures PostgreSQL recorded. */

interface Run {
  workflowId: string;
  runId: string;
  status: string;
  startTime: Date;
  parent: boolean;
}

/** The run and the runs it continued as, in order, up to the one that ended (or still runs). */
async function chainFrom(client: Client, workflowId: string, runId: string): Promise<Run[]> {
  const chain: Run[] = [];
  for (let id: string | undefined = runId; id && chain.length < 50;) {
    const handle: WorkflowHandle = client.workflow.getHandle(workflowId, id);
    const d = await handle.describe();
    chain.push({
      workflowId,
      runId: id,
      status: d.status.name,
      startTime: d.startTime,
      parent: !!d.parentExecution,
    });
    if (d.status.name !== 'CONTINUED_AS_NEW') break;
    const { events } = await handle.fetchHistory();
    id = events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return chain;
}

/** Why a failed run failed, as recorded: the push's own run row, or (a listing's child) the tour's failure. */
async function recordedReason(
  pool: Pool,
  run: Run,
  operatorId: string,
  externalId: string,
): Promise<string | null> {
  if (!run.parent) {
    const { rows } = await pool.query(
      `SELECT message FROM import_runs WHERE workflow_id = $1 AND run_id = $2 AND status = 'failed'`,
      [run.workflowId, run.runId],
    );
    return rows[0]?.message || null;
  }
  const { rows } = await pool.query(
    `SELECT kind || ': ' || message AS reason FROM tour_failures
      WHERE operator_id = $1 AND external_id = $2 AND occurred_at >= $3 ORDER BY occurred_at LIMIT 1`,
    [operatorId, externalId, new Date(run.startTime.getTime() - 1_000)],
  );
  return rows[0]?.reason ?? null;
}

/** What is wrong with how a pushed tour's run ended, or undefined when it completed or failed with a reason. */
async function problemOf(
  client: Client,
  pool: Pool,
  op: string,
  imp: { externalId: string; workflowId: string; runId: string },
) {
  const chain = await chainFrom(client, imp.workflowId, imp.runId);
  const last = chain.at(-1)!;
  if (last.status === 'COMPLETED') return undefined;
  if (last.status !== 'FAILED') return `its run ended ${last.status.toLowerCase()}`;
  return (await recordedReason(pool, last, op, imp.externalId))
    ? undefined
    : 'its run failed with no recorded reason';
}

/** Every tour of every accepted delivery has an ImportTour run that completed, or failed with a recorded reason. */
export async function pushesImported(
  client: Client,
  pool: Pool,
  deliveries: readonly DeliveryAttempt[],
): Promise<InvariantResult> {
  const rows: Record<string, unknown>[] = [];
  const accepted = deliveries.filter((d) => d.status === 202);
  let tours = 0;
  for (const d of accepted) {
    for (const externalId of d.tours) {
      tours++;
      const imp = d.imports?.find((i) => i.externalId === externalId);
      const where = { operatorId: d.operatorId, externalId, webhookId: d.webhookId };
      if (!imp) {
        rows.push({ ...where, problem: 'accepted, but the answer names no run for it' });
        continue;
      }
      const problem = await problemOf(client, pool, d.operatorId, imp).catch(
        (err: Error) => `its run: ${err.message}`,
      );
      if (problem) rows.push({ ...where, workflowId: imp.workflowId, runId: imp.runId, problem });
    }
  }
  return verdict(
    'every pushed tour was imported or failed with a reason',
    `${tours} tours of ${accepted.length} accepted deliveries`,
    rows,
  );
}

/** Slack for comparing the server's start times with the soak's clock (one machine, one clock). */
const CLOCK_SLACK_MS = 2_000;

/**
 * No ImportTour was started by a push beyond the coalescing rule: every run a push started is the one
 * its accepted answer names (or a run that one continued as), or was started while an attempt that was
 * not answered 202 was in flight for that tour (its retry names the run it reached, not that one).
 */
export async function pushesStartedOnce(
  client: Client,
  deliveries: readonly DeliveryAttempt[],
  taskQueue: string,
): Promise<InvariantResult> {
  const pushed: Run[] = [];
  const query = `WorkflowType = "${WORKFLOW_TYPES.importTour}" AND TaskQueue = "${taskQueue}"`;
  for await (const wf of client.workflow.list({ query })) {
    if (wf.parentExecution) continue;
    pushed.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      status: wf.status.name,
      startTime: wf.startTime,
      parent: false,
    });
  }
  const justified = new Set<string>();
  const justify = async (workflowId: string, runId: string) => {
    for (const run of await chainFrom(client, workflowId, runId).catch(() => [])) justified.add(run.runId);
  };
  for (const d of deliveries)
    for (const imp of d.status === 202 ? (d.imports ?? []) : []) await justify(imp.workflowId, imp.runId);
  const unanswered = deliveries.filter((d) => d.status !== 202 && d.status !== 200);
  const rows: Record<string, unknown>[] = [];
  // Oldest first: a run continued as new is justified with the run it continued from.
  for (const run of pushed.sort((a, b) => a.startTime.getTime() - b.startTime.getTime())) {
    if (justified.has(run.runId)) continue;
    // Visibility may not say a run is a child; describe does.
    if ((await client.workflow.getHandle(run.workflowId, run.runId).describe()).parentExecution) continue;
    const t = run.startTime.getTime();
    const inFlight = unanswered.some(
      (d) =>
        d.tours.some((tour) => run.workflowId === importTourWorkflowId(d.operatorId, tour)) &&
        t >= d.startedAt - CLOCK_SLACK_MS &&
        t <= d.endedAt + CLOCK_SLACK_MS,
    );
    if (inFlight) await justify(run.workflowId, run.runId);
    else rows.push({ ...describeRun(run), problem: 'started by no accepted delivery' });
  }
  rows.push(...acceptedTwice(deliveries));
  return verdict(
    'no pushed tour started twice beyond the coalescing rule',
    `${pushed.length} push-started runs`,
    rows,
  );
}

const describeRun = (r: Run) => ({
  workflowId: r.workflowId,
  runId: r.runId,
  startedAt: r.startTime.toISOString(),
  status: r.status,
});

/** A webhook-id is accepted once; a retry of an accepted delivery is a duplicate that starts nothing. */
function acceptedTwice(deliveries: readonly DeliveryAttempt[]): Record<string, unknown>[] {
  const accepted = new Map<string, number>();
  for (const d of deliveries.filter((x) => x.status === 202))
    accepted.set(`${d.operatorId}/${d.webhookId}`, (accepted.get(`${d.operatorId}/${d.webhookId}`) ?? 0) + 1);
  return [...accepted]
    .filter(([, n]) => n > 1)
    .map(([id, n]) => ({ delivery: id, problem: `one webhook-id accepted ${n} times` }));
}
