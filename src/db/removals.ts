import type { PushWindow } from '../domain/removal-guard.js';
import type { Queryable } from './pool.js';

/**
 * Removals need evidence and, in bulk, a person. An import notes each removal it has evidence for
 * (`pending`); when it ends they are applied together, or, when there are more than the operator's
 * guard allows, all held (`held`) until a person applies or discards them. A push's removal is decided
 * at once, against the pushed removals of a rolling window (see the end of this file); held, it has no
 * import run.
 */
type RemovalEvidence = 'tombstone' | 'unlisted';

export interface HeldRemoval {
  externalId: string;
  title: string | null;
  evidence: RemovalEvidence;
  notedAt: Date;
}

/**
 * Notes a tombstone for a tour this operator has active, or that this import is importing (staged, not
 * yet persisted: its tombstone came later in the same feed). Unknown or removed tours are ignored.
 */
export async function noteTombstone(
  db: Queryable,
  operatorId: string,
  externalId: string,
  importRunId: number,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO removals (operator_id, external_id, import_run_id, evidence, status)
     SELECT $1, $2, $3, 'tombstone', 'pending'
      WHERE EXISTS (SELECT 1 FROM tours WHERE operator_id = $1 AND external_id = $2 AND status = 'active')
         OR EXISTS (SELECT 1 FROM staged_tours
                     WHERE operator_id = $1 AND external_id = $2 AND persisted_outcome IS NULL)
     ON CONFLICT (operator_id, external_id) DO UPDATE SET import_run_id = EXCLUDED.import_run_id,
       evidence = EXCLUDED.evidence, noted_at = now()
       WHERE removals.status = 'pending'`,
    [operatorId, externalId, importRunId],
  );
  return (rowCount ?? 0) > 0;
}

/** A tour listed as active again is no longer to be removed (a held removal is for a person to settle). */
export async function forgetPending(db: Queryable, operatorId: string, externalIds: string[]): Promise<void> {
  await db.query(
    `DELETE FROM removals WHERE operator_id = $1 AND external_id = ANY($2::text[]) AND status = 'pending'`,
    [operatorId, externalIds],
  );
}

/**
 * After a complete, successful full listing: active tours it did not mention are noted for removal.
 * Tours first imported during this run are spared (listed, just not stamped before they existed).
 */
export async function noteUnlisted(db: Queryable, operatorId: string, importRunId: number): Promise<void> {
  await db.query(
    `INSERT INTO removals (operator_id, external_id, import_run_id, evidence, status)
     SELECT t.operator_id, t.external_id, $2, 'unlisted', 'pending'
       FROM tours t JOIN import_runs r ON r.id = $2
      WHERE t.operator_id = $1 AND t.status = 'active'
        AND t.last_listed_run IS DISTINCT FROM $2 AND t.first_imported_at < r.started_at
     ON CONFLICT (operator_id, external_id) DO NOTHING`,
    [operatorId, importRunId],
  );
}

/** Pending removals of other imports: their imports never finished, so their evidence is not acted on. */
export async function dropUnfinished(db: Queryable, operatorId: string, importRunId: number): Promise<void> {
  await db.query(
    `DELETE FROM removals WHERE operator_id = $1 AND status = 'pending' AND import_run_id <> $2`,
    [operatorId, importRunId],
  );
}

/** This import's removals of tours that are active (a tour it never managed to import counts for nothing). */
export async function countPending(db: Queryable, operatorId: string, importRunId: number): Promise<number> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM removals r
       JOIN tours t ON t.operator_id = r.operator_id AND t.external_id = r.external_id AND t.status = 'active'
      WHERE r.operator_id = $1 AND r.import_run_id = $2 AND r.status = 'pending'`,
    [operatorId, importRunId],
  );
  return rows[0].n;
}

/** Marks the tours of the given removals removed and forgets the removals. Returns how many tours. */
export async function apply(
  db: Queryable,
  operatorId: string,
  which: { importRunId: number } | { held: true },
): Promise<number> {
  const [filter, arg] =
    'held' in which
      ? [`status = 'held'`, null]
      : [`status = 'pending' AND import_run_id = $2`, which.importRunId];
  const { rows } = await db.query(
    `WITH gone AS (DELETE FROM removals WHERE operator_id = $1 AND ${filter} RETURNING external_id)
     UPDATE tours t SET status = 'removed', removed_at = now(), updated_at = now()
       FROM gone WHERE t.operator_id = $1 AND t.external_id = gone.external_id AND t.status = 'active'
     RETURNING t.id`,
    'held' in which ? [operatorId] : [operatorId, arg],
  );
  return rows.length;
}

/** Holds this import's removals for a person. */
export async function hold(db: Queryable, operatorId: string, importRunId: number): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE removals r SET status = 'held' FROM tours t
      WHERE r.operator_id = $1 AND r.import_run_id = $2 AND r.status = 'pending'
        AND t.operator_id = r.operator_id AND t.external_id = r.external_id AND t.status = 'active'`,
    [operatorId, importRunId],
  );
  return rowCount ?? 0;
}

/** Discards the held removals: the tours stay. */
export async function discardHeld(db: Queryable, operatorId: string): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM removals WHERE operator_id = $1 AND status = 'held'`, [
    operatorId,
  ]);
  return rowCount ?? 0;
}

export async function listHeld(db: Queryable, operatorId: string, limit = 1_000): Promise<HeldRemoval[]> {
  const { rows } = await db.query(
    `SELECT r.external_id, t.title, r.evidence, r.noted_at FROM removals r
       LEFT JOIN tours t ON t.operator_id = r.operator_id AND t.external_id = r.external_id
      WHERE r.operator_id = $1 AND r.status = 'held' ORDER BY r.external_id LIMIT $2`,
    [operatorId, limit],
  );
  return rows.map((r) => ({
    externalId: r.external_id,
    title: r.title,
    evidence: r.evidence,
    notedAt: r.noted_at,
  }));
}

export async function countHeld(db: Queryable, operatorId: string): Promise<number> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM removals WHERE operator_id = $1 AND status = 'held'`,
    [operatorId],
  );
  return rows[0].n;
}

/** Active tours of the operator: what a removal guard compares an import's removals with. */
export async function countActiveTours(db: Queryable, operatorId: string): Promise<number> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM tours WHERE operator_id = $1 AND status = 'active'`,
    [operatorId],
  );
  return rows[0].n;
}

/**
 * The import the operator's lock holder runs, whose run a tour it listed belongs to: the ImportTour
 * child knows its parent only by workflow id, and the lock names the same one. (Across continue-as-new
 * the run stays the one the import began with.)
 */
export async function runningImportRunId(db: Queryable, operatorId: string): Promise<number | undefined> {
  const { rows } = await db.query(
    `SELECT r.id FROM operators o
       JOIN import_runs r ON r.operator_id = o.id AND r.workflow_id = o.running_workflow_id
      WHERE o.id = $1 AND r.mode <> 'tour' AND r.finished_at IS NULL
      ORDER BY r.id DESC LIMIT 1`,
    [operatorId],
  );
  return rows[0] ? Number(rows[0].id) : undefined;
}

/**
 * The class of the advisory lock (`pg_advisory_xact_lock(class, hashtext(operator id))`) that
 * serializes the decisions on one operator's pushed removals: a burst of pushes decided at once on
 * several workers must not each count the window before the others' removals are in it.
 */
export const PUSHED_REMOVALS_LOCK = 7_441_108;

/** Takes the operator's pushed-removals lock until the transaction ends. */
export async function lockPushedRemovals(tx: Queryable, operatorId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [PUSHED_REMOVALS_LOCK, operatorId]);
}

/** What the guard weighs a pushed removal against; log entries older than the window are dropped first. */
export async function pushWindow(tx: Queryable, operatorId: string, windowMs: number): Promise<PushWindow> {
  await tx.query(
    `DELETE FROM pushed_removals
      WHERE operator_id = $1 AND removed_at < now() - make_interval(secs => $2 / 1000.0)`,
    [operatorId, windowMs],
  );
  const { rows } = await tx.query(
    `SELECT (SELECT count(*)::int FROM pushed_removals p
               JOIN tours t ON t.operator_id = p.operator_id AND t.external_id = p.external_id
                           AND t.status = 'removed' AND t.removed_at = p.removed_at
              WHERE p.operator_id = $1) AS applied,
            (SELECT count(*)::int FROM tours WHERE operator_id = $1 AND status = 'active') AS active,
            (SELECT count(*)::int FROM removals WHERE operator_id = $1 AND status = 'held') AS held`,
    [operatorId],
  );
  return { appliedInWindow: rows[0].applied, activeNow: rows[0].active, held: rows[0].held };
}

/** Removes the active tour a push brought a tombstone for, and logs it in the window. */
export async function removePushed(tx: Queryable, operatorId: string, externalId: string): Promise<boolean> {
  const { rowCount } = await tx.query(
    `WITH gone AS (
       UPDATE tours SET status = 'removed', removed_at = now(), updated_at = now()
        WHERE operator_id = $1 AND external_id = $2 AND status = 'active'
        RETURNING operator_id, external_id, removed_at)
     INSERT INTO pushed_removals (operator_id, external_id, removed_at)
     SELECT operator_id, external_id, removed_at FROM gone`,
    [operatorId, externalId],
  );
  return (rowCount ?? 0) > 0;
}

/** Holds the removal of the active tour a push brought a tombstone for, for a person. */
export async function holdPushed(tx: Queryable, operatorId: string, externalId: string): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO removals (operator_id, external_id, import_run_id, evidence, status)
     SELECT $1, $2, NULL, 'tombstone', 'held'
      WHERE EXISTS (SELECT 1 FROM tours WHERE operator_id = $1 AND external_id = $2 AND status = 'active')
     ${HELD_FROM_PUSH}`,
    [operatorId, externalId],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * Takes back the removals the window's pushes applied (of tours removed since, by that push) and holds
 * them: the burst they were part of waits for a person whole, as an import's removals do. Empties the
 * window's log. Returns how many tours are active again.
 */
export async function holdWindow(tx: Queryable, operatorId: string): Promise<number> {
  const { rowCount } = await tx.query(
    `WITH logged AS (DELETE FROM pushed_removals WHERE operator_id = $1 RETURNING external_id, removed_at),
          back AS (
            UPDATE tours t SET status = 'active', removed_at = NULL, updated_at = now() FROM logged l
             WHERE t.operator_id = $1 AND t.external_id = l.external_id
               AND t.status = 'removed' AND t.removed_at = l.removed_at
            RETURNING t.external_id)
     INSERT INTO removals (operator_id, external_id, import_run_id, evidence, status)
     SELECT $1, external_id, NULL, 'tombstone', 'held' FROM back
     ${HELD_FROM_PUSH}`,
    [operatorId],
  );
  return rowCount ?? 0;
}

/** A push's held removal replaces what an import had noted for the tour: a person decides it now. */
const HELD_FROM_PUSH = `ON CONFLICT (operator_id, external_id) DO UPDATE SET import_run_id = NULL,
       evidence = 'tombstone', status = 'held', noted_at = now()`;
