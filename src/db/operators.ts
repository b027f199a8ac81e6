import type { PausedBy } from '../domain/notifications.js';
import type { Queryable } from './pool.js';
import { storableText } from './text.js';

export interface OperatorRow {
  id: string;
  name: string;
  dialect: 'A' | 'B' | 'C' | 'D';
  baseUrl: string;
  settings: Record<string, unknown>;
  paused: boolean;
  pauseReason: string | null;
  pausedAt: Date | null;
  /** Who paused it: a person, the circuit breaker or the removal guard. */
  pausedBy: PausedBy | null;
  /** When the half-open breaker resumes it on its own. */
  resumeAt: Date | null;
  lastErrors: string[];
  deltaMark: string | null;
  runningWorkflowId: string | null;
}

const COLUMNS = `id, name, dialect, base_url, settings, paused, pause_reason, paused_at, last_errors, delta_mark,
  running_workflow_id, paused_by, resume_at`;

function toOperator(r: Record<string, unknown>): OperatorRow {
  return {
    id: r.id as string,
    name: r.name as string,
    dialect: r.dialect as OperatorRow['dialect'],
    baseUrl: r.base_url as string,
    settings: r.settings as Record<string, unknown>,
    paused: r.paused as boolean,
    pauseReason: r.pause_reason as string | null,
    pausedAt: r.paused_at as Date | null,
    pausedBy: r.paused_by as PausedBy | null,
    resumeAt: r.resume_at as Date | null,
    lastErrors: r.last_errors as string[],
    deltaMark: r.delta_mark as string | null,
    runningWorkflowId: r.running_workflow_id as string | null,
  };
}

export async function getOperator(db: Queryable, id: string): Promise<OperatorRow | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM operators WHERE id = $1`, [id]);
  return rows[0] ? toOperator(rows[0]) : undefined;
}

export async function listOperators(db: Queryable): Promise<OperatorRow[]> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM operators ORDER BY id`);
  return rows.map(toOperator);
}

/** Inserts or updates the configured (non-secret) part of an operator; pause state and marks are kept. */
export async function upsertOperator(
  db: Queryable,
  o: { id: string; name: string; dialect: string; baseUrl: string; settings: Record<string, unknown> },
): Promise<void> {
  await db.query(
    `INSERT INTO operators (id, name, dialect, base_url, settings) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, dialect = EXCLUDED.dialect,
       base_url = EXCLUDED.base_url, settings = EXCLUDED.settings, updated_at = now()`,
    [o.id, o.name, o.dialect, o.baseUrl, JSON.stringify(o.settings)],
  );
}

/** Who holds the operator's import lock after an attempt to take it, and whether the operator is paused. */
export interface ImportLock {
  holder: string | null;
  paused: boolean;
  pauseReason: string | null;
}

/**
 * Takes the operator's import lock for `workflowId` if it is free, already ours, or held by `staleHolder`
 * (a workflow known to be closed) — and the operator is not paused, unless the lock is already ours (a
 * pause that found us holding it signalled us). One statement on the operator's row: a pause
 * (setPaused) of the same row waits for it or it for the pause, so either the pause finds this import
 * holding the lock, or this import finds the operator paused.
 */
export async function acquireImportLock(
  db: Queryable,
  operatorId: string,
  workflowId: string,
  staleHolder?: string,
): Promise<ImportLock> {
  const { rows } = await db.query(
    `UPDATE operators SET running_workflow_id = $2, running_since = now()
       WHERE id = $1 AND (running_workflow_id IS NULL OR running_workflow_id = $2 OR running_workflow_id = $3)
         AND (NOT paused OR running_workflow_id = $2)
       RETURNING running_workflow_id, paused, pause_reason`,
    [operatorId, workflowId, staleHolder ?? null],
  );
  const row =
    rows[0] ??
    (
      await db.query('SELECT running_workflow_id, paused, pause_reason FROM operators WHERE id = $1', [
        operatorId,
      ])
    ).rows[0];
  return {
    holder: row?.running_workflow_id ?? null,
    paused: row?.paused ?? false,
    pauseReason: row?.pause_reason ?? null,
  };
}

/** The workflow ids of the imports running for every other operator (holders of their import locks). */
export async function otherRunningImports(db: Queryable, operatorId: string): Promise<string[]> {
  const { rows } = await db.query(
    'SELECT running_workflow_id FROM operators WHERE running_workflow_id IS NOT NULL AND id <> $1',
    [operatorId],
  );
  return rows.map((r) => r.running_workflow_id as string);
}

export async function releaseImportLock(
  db: Queryable,
  operatorId: string,
  workflowId: string,
): Promise<void> {
  await db.query(
    `UPDATE operators SET running_workflow_id = NULL, running_since = NULL
       WHERE id = $1 AND running_workflow_id = $2`,
    [operatorId, workflowId],
  );
}

/**
 * Pauses or resumes the operator; returns the import holding its lock as the same statement saw it (see
 * acquireImportLock), which is the one to signal. Undefined when there is no such operator.
 */
export async function setPaused(
  db: Queryable,
  operatorId: string,
  paused: boolean,
  reason: string | null,
  lastErrors: string[] = [],
  o: { pausedBy?: PausedBy; resumeInMs?: number } = {},
): Promise<{ runningWorkflowId: string | null } | undefined> {
  const { rows } = await db.query(
    `UPDATE operators SET paused = $2, pause_reason = $3, paused_at = CASE WHEN $2 THEN now() END,
       last_errors = CASE WHEN $2 THEN $4::jsonb ELSE last_errors END, updated_at = now(),
       paused_by = CASE WHEN $2 THEN $5 END,
       resume_at = CASE WHEN $2 THEN now() + make_interval(secs => $6 / 1000.0) END
     WHERE id = $1
     RETURNING running_workflow_id`,
    [
      operatorId,
      paused,
      paused && reason !== null ? storableText(reason) : null,
      JSON.stringify(lastErrors.map(storableText)),
      o.pausedBy ?? 'person',
      o.resumeInMs ?? null,
    ],
  );
  return rows[0] && { runningWorkflowId: rows[0].running_workflow_id };
}

export async function setDeltaMark(db: Queryable, operatorId: string, mark: string): Promise<void> {
  await db.query('UPDATE operators SET delta_mark = $2, delta_mark_at = now() WHERE id = $1', [
    operatorId,
    mark,
  ]);
}

/**
 * Reserves the operator's next request slot in a shared sliding schedule, so every worker on every host
 * together stays under `perSecond`. Returns how long to wait before sending.
 */
export async function reserveRequestSlot(
  db: Queryable,
  operatorId: string,
  perSecond: number,
): Promise<number> {
  const { rows } = await db.query(
    `UPDATE operators SET rate_next_slot = GREATEST(rate_next_slot, now()) + make_interval(secs => 1.0 / $2)
       WHERE id = $1
       RETURNING GREATEST(0, EXTRACT(EPOCH FROM (rate_next_slot - make_interval(secs => 1.0 / $2) - now())) * 1000)
         AS wait_ms`,
    [operatorId, perSecond],
  );
  return rows[0] ? Number(rows[0].wait_ms) : 0;
}

/**
 * What a webhook delivery id stands for when a request carrying it arrives: `claimed` (this request
 * starts its tours: a first delivery, or a retry taking over a claim older than `takeoverAfterMs`),
 * `starting` (an earlier attempt is still starting them) or `started` (every tour was started).
 */
export type DeliveryClaim = 'claimed' | 'starting' | 'started';

export async function claimWebhookDelivery(
  db: Queryable,
  d: { operatorId: string; webhookId: string; token: string; takeoverAfterMs: number },
): Promise<DeliveryClaim> {
  const claimed = await db.query(
    `INSERT INTO webhook_deliveries (operator_id, webhook_id, status, claimed_at, claim_token)
     VALUES ($1, $2, 'starting', now(), $3)
     ON CONFLICT (operator_id, webhook_id) DO UPDATE SET claimed_at = now(), claim_token = EXCLUDED.claim_token
       WHERE webhook_deliveries.status = 'starting'
         AND webhook_deliveries.claimed_at < now() - make_interval(secs => $4 / 1000.0)`,
    [d.operatorId, d.webhookId, d.token, d.takeoverAfterMs],
  );
  if ((claimed.rowCount ?? 0) > 0) return 'claimed';
  const { rows } = await db.query(
    `SELECT status FROM webhook_deliveries WHERE operator_id = $1 AND webhook_id = $2`,
    [d.operatorId, d.webhookId],
  );
  // No row: the attempt holding it failed and released it just now; the sender's next retry claims it.
  return rows[0]?.status === 'started' ? 'started' : 'starting';
}

/** Every tour of the delivery was started (by whichever attempt holds the claim now). */
export async function markWebhookDeliveryStarted(
  db: Queryable,
  operatorId: string,
  webhookId: string,
): Promise<void> {
  await db.query(
    `UPDATE webhook_deliveries SET status = 'started' WHERE operator_id = $1 AND webhook_id = $2`,
    [operatorId, webhookId],
  );
}

/** Forgets a claim whose tours could not all be started, so the sender's retry starts them all again. */
export async function releaseWebhookDelivery(
  db: Queryable,
  d: { operatorId: string; webhookId: string; token: string },
): Promise<void> {
  await db.query(
    `DELETE FROM webhook_deliveries
       WHERE operator_id = $1 AND webhook_id = $2 AND status = 'starting' AND claim_token = $3`,
    [d.operatorId, d.webhookId, d.token],
  );
}
