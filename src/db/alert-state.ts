import type { Queryable } from './pool.js';

/** What the Prometheus alerts need of one operator (src/api/alert-metrics.ts). */
export interface OperatorAlertState {
  operatorId: string;
  settings: Record<string, unknown>;
  /** Seconds since the delta mark last moved; null: no mark yet. */
  deltaMarkAgeSeconds: number | null;
  /** Status of the last ended full or delta run (completed, failed, cancelled); null: none yet. */
  lastRunStatus: string | null;
  /** Ended full or delta runs in a row, newest first, with failed tours or failed (as in operatorAlertFacts). */
  failingRunsInARow: number;
}

/** Runs looked at per operator: a streak longer than this reads as this long. */
const STREAK_WINDOW = 100;

/**
 * Every operator's alerting state in one query, bounded per operator by the import_runs_operator index
 * (its newest STREAK_WINDOW ended runs), so a scrape costs the same however long the history grows.
 */
export async function operatorAlertStates(db: Queryable): Promise<OperatorAlertState[]> {
  const { rows } = await db.query(
    `SELECT o.id, o.settings, EXTRACT(EPOCH FROM now() - o.delta_mark_at)::float8 AS mark_age,
            r.last_status, coalesce(r.in_a_row, 0)::int AS in_a_row
       FROM operators o
       LEFT JOIN LATERAL (
         SELECT max(status) FILTER (WHERE n = 1) AS last_status, count(*) FILTER (WHERE streak) AS in_a_row
           FROM (SELECT status, row_number() OVER w AS n, bool_and(failing) OVER w AS streak
                   FROM (SELECT status, started_at, id,
                                status = 'failed' OR coalesce((counts->>'failed')::int, 0) > 0 AS failing
                           FROM import_runs
                          WHERE operator_id = o.id AND mode <> 'tour'
                            AND status NOT IN ('skipped', 'running', 'paused')
                          ORDER BY started_at DESC, id DESC
                          LIMIT $1) newest
                 WINDOW w AS (ORDER BY started_at DESC, id DESC)) ranked
       ) r ON true
      ORDER BY o.id`,
    [STREAK_WINDOW],
  );
  return rows.map((r) => ({
    operatorId: r.id,
    settings: r.settings as Record<string, unknown>,
    deltaMarkAgeSeconds: r.mark_age === null ? null : Number(r.mark_age),
    lastRunStatus: r.last_status,
    failingRunsInARow: Number(r.in_a_row),
  }));
}
