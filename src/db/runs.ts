import type { Queryable } from './pool.js';
import { storableText } from './text.js';

export type RunStatus = 'running' | 'completed' | 'cancelled' | 'failed' | 'skipped' | 'paused';

export interface ImportCounts {
  listed: number;
  done: number;
  unchanged: number;
  failed: number;
  removed: number;
  invalid: number;
}

export interface ImportRunRow {
  id: number;
  operatorId: string;
  mode: string;
  status: RunStatus;
  workflowId: string;
  runId: string;
  counts: Partial<ImportCounts>;
  message: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

/** Idempotent: a retried activity finds the row it made before. */
export async function startRun(
  db: Queryable,
  r: {
    operatorId: string;
    mode: string;
    workflowId: string;
    runId: string;
    status?: RunStatus;
    message?: string;
  },
): Promise<number> {
  const { rows } = await db.query(
    `INSERT INTO import_runs (operator_id, mode, status, workflow_id, run_id, message, finished_at)
     VALUES ($1, $2, $5, $3, $4, $6, CASE WHEN $5 = 'running' THEN NULL ELSE now() END)
     ON CONFLICT (workflow_id, run_id) DO UPDATE SET mode = EXCLUDED.mode
     RETURNING id`,
    [
      r.operatorId,
      r.mode,
      r.workflowId,
      r.runId,
      r.status ?? 'running',
      r.message == null ? null : storableText(r.message),
    ],
  );
  return Number(rows[0].id); // bigserial: pg hands int8 over as a string
}

export async function updateRun(
  db: Queryable,
  id: number,
  u: { status: RunStatus; counts: Partial<ImportCounts>; message?: string | null },
): Promise<void> {
  await db.query(
    `UPDATE import_runs SET status = $2, counts = $3, message = COALESCE($4, message),
       finished_at = CASE WHEN $2 IN ('running', 'paused') THEN NULL ELSE now() END
     WHERE id = $1`,
    [id, u.status, JSON.stringify(u.counts), u.message == null ? null : storableText(u.message)],
  );
}

/** The columns toImportRun maps. */
export const RUN_COLUMNS =
  'id, operator_id, mode, status, workflow_id, run_id, counts, message, started_at, finished_at';

/** The operator's latest runs, newest first (index import_runs_operator). */
export async function listRuns(db: Queryable, operatorId: string, limit = 20): Promise<ImportRunRow[]> {
  const { rows } = await db.query(
    `SELECT ${RUN_COLUMNS} FROM import_runs WHERE operator_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2`,
    [operatorId, limit],
  );
  return rows.map(toImportRun);
}

export function toImportRun(r: Record<string, unknown>): ImportRunRow {
  return {
    id: Number(r.id),
    operatorId: r.operator_id as string,
    mode: r.mode as string,
    status: r.status as RunStatus,
    workflowId: r.workflow_id as string,
    runId: r.run_id as string,
    counts: r.counts as Partial<ImportCounts>,
    message: r.message as string | null,
    startedAt: r.started_at as Date,
    finishedAt: r.finished_at as Date | null,
  };
}

export async function recordFailure(
  db: Queryable,
  f: {
    operatorId: string;
    externalId: string;
    kind: string;
    message: string;
    excerpt?: string;
    workflowId?: string;
    /** Who records it (see activityExecutionKey): a second insert with the same key is ignored. */
    recordedBy?: string;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO tour_failures (operator_id, external_id, kind, message, excerpt, workflow_id, recorded_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (recorded_by) DO NOTHING`,
    [
      f.operatorId,
      f.externalId,
      f.kind,
      storableText(f.message.slice(0, 2000)),
      f.excerpt === undefined ? null : storableText(f.excerpt.slice(0, 500)),
      f.workflowId ?? null,
      f.recordedBy ?? null,
    ],
  );
}

export async function listFailures(db: Queryable, operatorId: string, limit = 50) {
  const { rows } = await db.query(
    `SELECT external_id, kind, message, excerpt, workflow_id, occurred_at FROM tour_failures
      WHERE operator_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2`,
    [operatorId, limit],
  );
  return rows.map((r) => ({
    externalId: r.external_id as string,
    kind: r.kind as string,
    message: r.message as string,
    excerpt: r.excerpt as string | null,
    workflowId: r.workflow_id as string | null,
    occurredAt: r.occurred_at as Date,
  }));
}

/**
 * Closes the open runs of an import workflow that ended without its cleanup (terminated, timed out):
 * found when its lock is taken over, so status pages stop showing it as importing.
 */
export async function closeAbandonedRuns(db: Queryable, workflowId: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE import_runs SET status = 'failed', finished_at = now(),
       message = 'the import workflow closed without finishing (terminated or timed out)'
     WHERE workflow_id = $1 AND finished_at IS NULL`,
    [workflowId],
  );
  return rowCount ?? 0;
}

/** Stores how many tours the operator had active when the import began (the removal guard's base). */
export async function setActiveAtStart(db: Queryable, id: number, active: number): Promise<void> {
  await db.query('UPDATE import_runs SET active_at_start = COALESCE(active_at_start, $2) WHERE id = $1', [
    id,
    active,
  ]);
}

export interface SettledRemovals {
  removed: number;
  held: number;
  reason?: string;
}

/** The removal guard's base and what the import's end did with its removals (null before it ran). */
export async function removalState(
  db: Queryable,
  id: number,
): Promise<{ activeAtStart: number | null; settled: SettledRemovals | null }> {
  const { rows } = await db.query(
    'SELECT active_at_start, removals_settled FROM import_runs WHERE id = $1 FOR UPDATE',
    [id],
  );
  return { activeAtStart: rows[0]?.active_at_start ?? null, settled: rows[0]?.removals_settled ?? null };
}

export async function setRemovalsSettled(db: Queryable, id: number, settled: SettledRemovals): Promise<void> {
  await db.query('UPDATE import_runs SET removals_settled = $2 WHERE id = $1', [id, JSON.stringify(settled)]);
}
