import type { Queryable } from './pool.js';

/**
 * Removals need evidence and, in bulk, a person. An import notes each removal it has evidence for
 * (`pending`); when it ends they are applied together, or, when there are more than the operator's
 * guard allows, all held (`held`) until a person applies or discards them.
 */
export type RemovalEvidence = 'tombstone' | 'unlisted';

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
