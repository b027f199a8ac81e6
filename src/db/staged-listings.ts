import type { ListEntry } from '../operators/types.js';
import { inTransaction, type Pool, type Queryable } from './pool.js';

/**
 * A listing staged while it is parsed (dialect D's one answer with every product), paged through by
 * its import. Rows belong to one staging attempt; the first attempt to stage the whole answer is the
 * run's listing (staged_listing_runs), and only its rows are read. See migration 009_octo.sql.
 */

/** The attempt whose staging completed, and how many entries it has. */
export interface StagedListing {
  attempt: string;
  entries: number;
}

export async function completedListing(
  db: Queryable,
  importRunId: number,
): Promise<StagedListing | undefined> {
  const { rows } = await db.query(
    `SELECT attempt, entries FROM staged_listing_runs WHERE import_run_id = $1`,
    [importRunId],
  );
  return rows[0] && { attempt: rows[0].attempt as string, entries: rows[0].entries as number };
}

/** Appends entries `firstSeq`, `firstSeq + 1`… of an attempt (a retried batch writes the same rows). */
export async function stageEntries(
  db: Queryable,
  importRunId: number,
  attempt: string,
  firstSeq: number,
  entries: ListEntry[],
): Promise<void> {
  if (!entries.length) return;
  await db.query(
    `INSERT INTO staged_listings (import_run_id, attempt, seq, external_id, entry)
     SELECT $1, $2, s.seq, s.external_id, s.entry
       FROM unnest($3::int[], $4::text[], $5::jsonb[]) AS s(seq, external_id, entry)
     ON CONFLICT (import_run_id, attempt, seq) DO UPDATE
       SET external_id = EXCLUDED.external_id, entry = EXCLUDED.entry`,
    [
      importRunId,
      attempt,
      entries.map((_, i) => firstSeq + i),
      entries.map((e) => e.externalId),
      entries.map((e) => JSON.stringify(e)),
    ],
  );
}

/**
 * Records the attempt that staged the whole answer, unless another already did: that one stays the
 * run's listing (an import may be paging through it). Either way the losers' rows are deleted in the
 * same transaction. Returns the run's listing.
 */
export async function completeListing(
  pool: Pool,
  importRunId: number,
  attempt: string,
  entries: number,
): Promise<StagedListing> {
  return inTransaction(pool, async (tx) => {
    await tx.query(
      `INSERT INTO staged_listing_runs (import_run_id, attempt, entries) VALUES ($1, $2, $3)
       ON CONFLICT (import_run_id) DO NOTHING`,
      [importRunId, attempt, entries],
    );
    const listing = (await completedListing(tx, importRunId))!;
    await tx.query(`DELETE FROM staged_listings WHERE import_run_id = $1 AND attempt <> $2`, [
      importRunId,
      listing.attempt,
    ]);
    return listing;
  });
}

/** An attempt that failed midway leaves nothing behind (unless it is the run's listing). */
export async function dropAttempt(db: Queryable, importRunId: number, attempt: string): Promise<void> {
  await db.query(
    `DELETE FROM staged_listings s WHERE s.import_run_id = $1 AND s.attempt = $2
        AND NOT EXISTS (SELECT 1 FROM staged_listing_runs r WHERE r.import_run_id = $1 AND r.attempt = $2)`,
    [importRunId, attempt],
  );
}

/**
 * The staged listings of the operator's finished runs, deleted when its next import stages one: an
 * operator keeps at most its latest listing between imports (and Housekeeping's import_runs retention
 * takes the rest with their runs).
 */
export async function dropFinishedListings(db: Queryable, operatorId: string): Promise<void> {
  const finished = `SELECT id FROM import_runs WHERE operator_id = $1 AND finished_at IS NOT NULL`;
  await db.query(`DELETE FROM staged_listings WHERE import_run_id IN (${finished})`, [operatorId]);
  await db.query(`DELETE FROM staged_listing_runs WHERE import_run_id IN (${finished})`, [operatorId]);
}

/** Up to `limit` entries of the run's listing from `fromSeq` on, in listing order. */
export async function readStagedEntries(
  db: Queryable,
  importRunId: number,
  attempt: string,
  fromSeq: number,
  limit: number,
): Promise<ListEntry[]> {
  const { rows } = await db.query(
    `SELECT entry FROM staged_listings WHERE import_run_id = $1 AND attempt = $2 AND seq >= $3
      ORDER BY seq LIMIT $4`,
    [importRunId, attempt, fromSeq, limit],
  );
  return rows.map((r) => r.entry as ListEntry);
}
