import type { Tour } from '../domain/tour.js';
import type { Queryable } from './pool.js';

export interface StoredTourState {
  externalId: string;
  status: 'active' | 'removed';
  contentHash: string | null;
  sourceUpdatedAt: string | null;
}

/** What the DB knows of these tours, in one query (used to skip unchanged tours without a child workflow). */
export async function findTourStates(
  db: Queryable,
  operatorId: string,
  externalIds: string[],
): Promise<Map<string, StoredTourState>> {
  const { rows } = await db.query(
    `SELECT external_id, status, content_hash, source_updated_at FROM tours
      WHERE operator_id = $1 AND external_id = ANY($2::text[])`,
    [operatorId, externalIds],
  );
  return new Map(
    rows.map((r) => [
      r.external_id,
      {
        externalId: r.external_id,
        status: r.status,
        contentHash: r.content_hash,
        sourceUpdatedAt: r.source_updated_at ? (r.source_updated_at as Date).toISOString() : null,
      },
    ]),
  );
}

export async function stampListed(db: Queryable, operatorId: string, externalIds: string[], runId: number) {
  await db.query(
    `UPDATE tours SET last_listed_run = $3 WHERE operator_id = $1 AND external_id = ANY($2::text[])`,
    [operatorId, externalIds, runId],
  );
}

/** Marks a tour removed (tombstone, 404, or absent from a complete listing). Unknown tours are ignored. */
export async function markRemoved(db: Queryable, operatorId: string, externalId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE tours SET status = 'removed', removed_at = now(), updated_at = now()
      WHERE operator_id = $1 AND external_id = $2 AND status <> 'removed'`,
    [operatorId, externalId],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * After a complete, successful listing: active tours the listing did not mention are removed.
 * Tours first imported during this run are spared (they were listed, just not stamped before existing).
 */
export async function removeUnlisted(db: Queryable, operatorId: string, runId: number): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE tours t SET status = 'removed', removed_at = now(), updated_at = now()
       FROM import_runs r
      WHERE r.id = $2 AND t.operator_id = $1 AND t.status = 'active'
        AND t.last_listed_run IS DISTINCT FROM $2 AND t.first_imported_at < r.started_at`,
    [operatorId, runId],
  );
  return rowCount ?? 0;
}

export async function stageTour(
  db: Queryable,
  tour: Tour,
  contentHash: string,
  fetchedAt: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO staged_tours (operator_id, external_id, content_hash, data, fetched_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (operator_id, external_id, content_hash) DO UPDATE SET fetched_at = GREATEST(staged_tours.fetched_at, EXCLUDED.fetched_at)`,
    [tour.operatorId, tour.externalId, contentHash, JSON.stringify(tour), fetchedAt],
  );
}

export async function readStagedTour(
  db: Queryable,
  operatorId: string,
  externalId: string,
  contentHash: string,
): Promise<{ tour: Tour; fetchedAt: Date } | undefined> {
  const { rows } = await db.query(
    `SELECT data, fetched_at FROM staged_tours WHERE operator_id = $1 AND external_id = $2 AND content_hash = $3`,
    [operatorId, externalId, contentHash],
  );
  return rows[0] ? { tour: rows[0].data as Tour, fetchedAt: rows[0].fetched_at } : undefined;
}

export async function dropStagedTour(
  db: Queryable,
  operatorId: string,
  externalId: string,
  contentHash: string,
) {
  await db.query(
    `DELETE FROM staged_tours WHERE operator_id = $1 AND external_id = $2 AND content_hash = $3`,
    [operatorId, externalId, contentHash],
  );
}

/**
 * Upserts the tour unless the stored row is newer (version guard on the operator's last-update mark, then
 * on fetch time). Returns the tour's id, or undefined when the stored row won.
 */
export async function upsertTour(
  db: Queryable,
  tour: Tour,
  contentHash: string,
  fetchedAt: Date,
): Promise<number | undefined> {
  const { rows } = await db.query(
    `INSERT INTO tours (operator_id, external_id, status, title, description, duration_minutes, price_amount,
                        price_currency, location, content_hash, source_updated_at, fetched_at)
     VALUES ($1, $2, 'active', $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (operator_id, external_id) DO UPDATE SET
       status = 'active', removed_at = NULL, title = EXCLUDED.title, description = EXCLUDED.description,
       duration_minutes = EXCLUDED.duration_minutes, price_amount = EXCLUDED.price_amount,
       price_currency = EXCLUDED.price_currency, location = EXCLUDED.location,
       content_hash = EXCLUDED.content_hash, source_updated_at = EXCLUDED.source_updated_at,
       fetched_at = EXCLUDED.fetched_at, updated_at = now()
     WHERE (tours.source_updated_at IS NULL OR EXCLUDED.source_updated_at IS NULL
            OR EXCLUDED.source_updated_at >= tours.source_updated_at)
       AND EXCLUDED.fetched_at >= tours.fetched_at
     RETURNING id`,
    [
      tour.operatorId,
      tour.externalId,
      tour.title,
      tour.description,
      tour.durationMinutes,
      tour.price?.amount ?? null,
      tour.price?.currency ?? null,
      tour.location ? JSON.stringify(tour.location) : null,
      contentHash,
      tour.sourceUpdatedAt,
      fetchedAt,
    ],
  );
  return rows[0]?.id;
}

export interface TourAssetInput {
  position: number;
  sourceUrl: string;
  caption: string | null;
  sha256: string | null;
  status: 'ready' | 'failed';
  failureReason: string | null;
}

/** Replaces a tour's image list (order, per-image status) in the caller's transaction. */
export async function replaceTourAssets(
  db: Queryable,
  tourId: number,
  assets: TourAssetInput[],
): Promise<void> {
  await db.query('DELETE FROM tour_assets WHERE tour_id = $1', [tourId]);
  if (!assets.length) return;
  await db.query(
    `INSERT INTO tour_assets (tour_id, position, source_url, caption, sha256, status, failure_reason)
     SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
    [
      tourId,
      assets.map((a) => a.position),
      assets.map((a) => a.sourceUrl),
      assets.map((a) => a.caption),
      assets.map((a) => a.sha256),
      assets.map((a) => a.status),
      assets.map((a) => a.failureReason),
    ],
  );
}

/**
 * Staged tours of imports that failed or were cancelled between fetch and persist. A day is far longer
 * than any ImportTour takes, so a row that old has no workflow left to persist it.
 */
export async function sweepStaleStaged(db: Queryable, operatorId: string): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM staged_tours WHERE operator_id = $1 AND fetched_at < now() - interval '1 day'`,
    [operatorId],
  );
  return rowCount ?? 0;
}
