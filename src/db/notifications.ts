import type { Notification } from '../domain/notifications.js';
import type { Queryable } from './pool.js';
import { storableText } from './text.js';

export type DeliveryStatus = 'sending' | 'delivered' | 'failed';

export interface DeliveryRow {
  operatorId: string;
  event: string;
  sink: string;
  message: string;
  status: DeliveryStatus;
  attempts: number;
  httpStatus: number | null;
  lastError: string | null;
  updatedAt: Date;
}

/** The delivery of `n` to `sink`, opened as 'sending' the first time; its status and attempts so far. */
export async function openDelivery(
  db: Queryable,
  n: Notification,
  sink: string,
): Promise<{ status: DeliveryStatus; attempts: number }> {
  await db.query(
    `INSERT INTO notification_deliveries (dedup_key, sink, operator_id, event, message, status)
     VALUES ($1, $2, $3, $4, $5, 'sending') ON CONFLICT (dedup_key, sink) DO NOTHING`,
    [n.dedupKey, sink, n.operatorId, n.event, storableText(n.message)],
  );
  const { rows } = await db.query(
    'SELECT status, attempts FROM notification_deliveries WHERE dedup_key = $1 AND sink = $2',
    [n.dedupKey, sink],
  );
  return { status: rows[0].status, attempts: rows[0].attempts };
}

/** One attempt's outcome: delivered, still 'sending' (to be retried), or failed for good when `final`. */
export async function recordAttempt(
  db: Queryable,
  a: { dedupKey: string; sink: string; ok: boolean; final: boolean; httpStatus?: number; error?: string },
): Promise<void> {
  await db.query(
    `UPDATE notification_deliveries SET status = $3, attempts = attempts + 1, http_status = $4,
       last_error = $5, updated_at = now()
     WHERE dedup_key = $1 AND sink = $2 AND status = 'sending'`,
    [
      a.dedupKey,
      a.sink,
      a.ok ? 'delivered' : a.final ? 'failed' : 'sending',
      a.httpStatus ?? null,
      a.ok ? null : storableText(a.error ?? 'failed'),
    ],
  );
}

/** The latest deliveries, of one operator or all, newest first. */
export async function recentDeliveries(
  db: Queryable,
  o: { operatorId?: string; limit: number },
): Promise<DeliveryRow[]> {
  const { rows } = await db.query(
    `SELECT operator_id, event, sink, message, status, attempts, http_status, last_error, updated_at
       FROM notification_deliveries WHERE ($1::text IS NULL OR operator_id = $1)
      ORDER BY updated_at DESC, id DESC LIMIT $2`,
    [o.operatorId ?? null, o.limit],
  );
  return rows.map((r) => ({
    operatorId: r.operator_id,
    event: r.event,
    sink: r.sink,
    message: r.message,
    status: r.status,
    attempts: r.attempts,
    httpStatus: r.http_status,
    lastError: r.last_error,
    updatedAt: r.updated_at,
  }));
}

/**
 * The alerting facts after an import ended: how many runs in a row (this one included, single-tour runs
 * and skipped ones left out) had failed tours or failed, counted up to `upTo`; and when the delta mark
 * was last moved, if longer ago than `markMaxAgeMs`.
 */
export async function operatorAlertFacts(
  db: Queryable,
  o: { operatorId: string; upTo: number; markMaxAgeMs?: number },
): Promise<{ failingRuns: number; staleMarkSince: Date | null }> {
  const runs = await db.query(
    `SELECT status = 'failed' OR coalesce((counts->>'failed')::int, 0) > 0 AS failing
       FROM import_runs WHERE operator_id = $1 AND mode <> 'tour' AND status NOT IN ('skipped', 'running', 'paused')
      ORDER BY started_at DESC, id DESC LIMIT $2`,
    [o.operatorId, o.upTo],
  );
  const firstOk = runs.rows.findIndex((r) => !r.failing);
  const mark =
    o.markMaxAgeMs === undefined
      ? { rows: [] }
      : await db.query(
          `SELECT delta_mark_at FROM operators
            WHERE id = $1 AND delta_mark_at < now() - make_interval(secs => $2 / 1000.0)`,
          [o.operatorId, o.markMaxAgeMs],
        );
  return {
    failingRuns: firstOk < 0 ? runs.rows.length : firstOk,
    staleMarkSince: mark.rows[0]?.delta_mark_at ?? null,
  };
}
