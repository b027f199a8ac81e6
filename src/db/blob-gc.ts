import type { Queryable } from './pool.js';

/**
 * Mark and sweep of blobs no tour refers to (docs/operations.md: Housekeeping). Blobs are addressed by the hash of
 * their original (`originals/…/<sha>`, `variants/<sha>/…`), so the hash is what is marked and swept.
 */

/**
 * The mark: of these hashes (from a page of the blob store's keys), those no tour_assets row refers to
 * become candidates, keeping the time of an earlier mark; those referenced again stop being candidates.
 * Returns how many are marked now.
 */
export async function markUnreferenced(db: Queryable, hashes: string[]): Promise<number> {
  if (!hashes.length) return 0;
  await db.query(
    `DELETE FROM blob_gc_candidates c
      WHERE c.sha256 = ANY($1::text[]) AND EXISTS (SELECT 1 FROM tour_assets ta WHERE ta.sha256 = c.sha256)`,
    [hashes],
  );
  const { rows } = await db.query(
    `WITH unreferenced AS (
       SELECT h FROM unnest($1::text[]) AS h
        WHERE NOT EXISTS (SELECT 1 FROM tour_assets ta WHERE ta.sha256 = h))
     INSERT INTO blob_gc_candidates (sha256) SELECT h FROM unreferenced
     ON CONFLICT (sha256) DO NOTHING
     RETURNING sha256`,
    [hashes],
  );
  return rows.length;
}

export type SweepVerdict = 'sweep' | 'referenced' | 'in-use';

/**
 * Takes the next candidate marked at least `graceMs` ago (skipping those another sweeper holds) and
 * decides about it, in the caller's transaction:
 * - `referenced`: a tour refers to it now; no longer a candidate.
 * - `in-use`: an import downloaded or re-checked its original since the mark (less `recheckMs`, the
 *   window in which an import takes a checked image as it is, without touching it): an import in flight
 *   may be about to refer to it. Marked again, from now.
 * - `sweep`: its asset rows and its candidate row are deleted here; the caller deletes its blobs before
 *   committing, holding the asset row all along. Imports take that row too (src/db/assets.ts): one that
 *   comes after the sweep finds the asset gone and imports the image again before anything refers to it.
 * Undefined when no candidate is due.
 */
export async function takeDueCandidate(
  db: Queryable,
  o: { graceMs: number; recheckMs: number },
): Promise<{ sha256: string; verdict: SweepVerdict } | undefined> {
  const due = await db.query(
    `SELECT sha256, marked_at FROM blob_gc_candidates
      WHERE marked_at < now() - make_interval(secs => $1 / 1000.0)
      ORDER BY marked_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
    [o.graceMs],
  );
  if (!due.rows[0]) return undefined;
  const sha256: string = due.rows[0].sha256;
  // Locking the asset row first waits out a persist that is inserting a reference to it (its foreign key
  // holds a share lock) and makes any later one wait for this transaction: the checks below are final.
  await db.query('SELECT 1 FROM assets WHERE sha256 = $1 FOR UPDATE', [sha256]);
  const { rows } = await db.query(
    `SELECT EXISTS (SELECT 1 FROM tour_assets WHERE sha256 = $1) AS referenced,
            EXISTS (SELECT 1 FROM asset_sources WHERE sha256 = $1
                     AND checked_at >= $2::timestamptz - make_interval(secs => $3 / 1000.0)) AS in_use`,
    [sha256, due.rows[0].marked_at, o.recheckMs],
  );
  if (rows[0].referenced) {
    await db.query('DELETE FROM blob_gc_candidates WHERE sha256 = $1', [sha256]);
    return { sha256, verdict: 'referenced' };
  }
  if (rows[0].in_use) {
    await db.query('UPDATE blob_gc_candidates SET marked_at = now() WHERE sha256 = $1', [sha256]);
    return { sha256, verdict: 'in-use' };
  }
  await db.query('DELETE FROM asset_variants WHERE sha256 = $1', [sha256]);
  await db.query('DELETE FROM asset_sources WHERE sha256 = $1', [sha256]);
  await db.query('DELETE FROM assets WHERE sha256 = $1', [sha256]);
  await db.query('DELETE FROM blob_gc_candidates WHERE sha256 = $1', [sha256]);
  return { sha256, verdict: 'sweep' };
}
