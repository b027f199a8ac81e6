import type { PrunedTable } from '../domain/housekeeping.js';
import type { Queryable } from './pool.js';

/**
 * Retention of bookkeeping rows, one bounded batch per call (oldest first): each returns how many rows it
 * deleted, at most `limit`, and the caller repeats until fewer come back. None deletes what an import
 * still needs: see each query's conditions.
 */
export interface PruneBatch {
  olderThanMs: number;
  limit: number;
}

/**
 * Finished runs older than the retention. Kept: open runs (running or paused), every run of an import
 * that holds its operator's lock, runs that removals refer to (held for a person, or pending), and the
 * newest run of each operator (status pages show when it last imported).
 */
async function pruneImportRuns(db: Queryable, b: PruneBatch): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM import_runs WHERE id IN (
       SELECT r.id FROM import_runs r
        WHERE r.finished_at < now() - make_interval(secs => $1 / 1000.0)
          AND NOT EXISTS (SELECT 1 FROM removals m WHERE m.import_run_id = r.id)
          AND NOT EXISTS (SELECT 1 FROM operators o WHERE o.running_workflow_id = r.workflow_id)
          AND EXISTS (SELECT 1 FROM import_runs n
                       WHERE n.operator_id = r.operator_id AND (n.started_at, n.id) > (r.started_at, r.id))
        ORDER BY r.finished_at LIMIT $2)`,
    [b.olderThanMs, b.limit],
  );
  return rowCount ?? 0;
}

async function pruneTourFailures(db: Queryable, b: PruneBatch): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM tour_failures WHERE id IN (
       SELECT id FROM tour_failures WHERE occurred_at < now() - make_interval(secs => $1 / 1000.0)
        ORDER BY occurred_at LIMIT $2)`,
    [b.olderThanMs, b.limit],
  );
  return rowCount ?? 0;
}

/**
 * Webhook ids refuse a replayed delivery, but a replay older than the signature's timestamp tolerance
 * (5 minutes) is refused anyway: past the retention the rows only take space. A claim still 'starting'
 * that old belongs to a request that died long ago.
 */
async function pruneWebhookDeliveries(db: Queryable, b: PruneBatch): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM webhook_deliveries WHERE (operator_id, webhook_id) IN (
       SELECT operator_id, webhook_id FROM webhook_deliveries
        WHERE received_at < now() - make_interval(secs => $1 / 1000.0)
        ORDER BY received_at LIMIT $2)`,
    [b.olderThanMs, b.limit],
  );
  return rowCount ?? 0;
}

/**
 * Staged tours nobody will read again: those persisted more than `persistedKeepMs` ago (a persist re-run
 * after its commit happens within seconds), and those never persisted and staged longer ago than the
 * retention, unless their operator is importing now (its import may still persist them, or restage them:
 * image retries are staged with the tour's old fetch time).
 */
async function pruneStagedTours(db: Queryable, b: PruneBatch & { persistedKeepMs: number }): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM staged_tours WHERE (operator_id, external_id, content_hash) IN (
       SELECT s.operator_id, s.external_id, s.content_hash FROM staged_tours s
        WHERE (s.persisted_outcome IS NOT NULL
               AND coalesce(s.persisted_at, s.fetched_at) < now() - make_interval(secs => $3 / 1000.0))
           OR (s.persisted_outcome IS NULL
               AND s.fetched_at < now() - make_interval(secs => $1 / 1000.0)
               AND NOT EXISTS (SELECT 1 FROM operators o
                                WHERE o.id = s.operator_id AND o.running_workflow_id IS NOT NULL))
        LIMIT $2)`,
    [b.olderThanMs, b.limit, b.persistedKeepMs],
  );
  return rowCount ?? 0;
}

/**
 * Staged listings (dialect D) of runs that finished longer ago than the staged tours' retention: nobody
 * pages them again. An operator's next import drops its finished runs' listings itself; this takes
 * those of operators no longer imported (the newest run of each is kept, so no cascade would).
 */
async function pruneStagedListings(db: Queryable, b: PruneBatch): Promise<number> {
  const finished = `SELECT id FROM import_runs WHERE finished_at < now() - make_interval(secs => $1 / 1000.0)`;
  const { rowCount } = await db.query(
    `DELETE FROM staged_listings WHERE (import_run_id, attempt, seq) IN (
       SELECT import_run_id, attempt, seq FROM staged_listings WHERE import_run_id IN (${finished}) LIMIT $2)`,
    [b.olderThanMs, b.limit],
  );
  await db.query(
    `DELETE FROM staged_listing_runs m WHERE m.import_run_id IN (${finished})
        AND NOT EXISTS (SELECT 1 FROM staged_listings s WHERE s.import_run_id = m.import_run_id)`,
    [b.olderThanMs],
  );
  return rowCount ?? 0;
}

/** Staged listings are staged tours too: pruned in the same phase, within the same batch bound. */
async function pruneStaged(db: Queryable, b: PruneBatch & { persistedKeepMs: number }): Promise<number> {
  const tours = await pruneStagedTours(db, b);
  return tours < b.limit ? tours + (await pruneStagedListings(db, { ...b, limit: b.limit - tours })) : tours;
}

/** One batch of the table's retention. */
export function pruneBatch(
  db: Queryable,
  table: PrunedTable,
  b: PruneBatch & { persistedKeepMs: number },
): Promise<number> {
  switch (table) {
    case 'import_runs':
      return pruneImportRuns(db, b);
    case 'tour_failures':
      return pruneTourFailures(db, b);
    case 'webhook_deliveries':
      return pruneWebhookDeliveries(db, b);
    case 'staged_tours':
      return pruneStaged(db, b);
  }
}
