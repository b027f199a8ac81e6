import type { Tour } from '../domain/tour.js';
import type { TourAssetInput } from '../domain/tour-images.js';
import type { Queryable } from './pool.js';

export interface StoredTourState {
  externalId: string;
  status: 'active' | 'removed';
  contentHash: string | null;
  sourceUpdatedAt: string | null;
  /** Some image failed for a reason a retry may fix, and the next import should try it again. */
  retryImages: boolean;
}

/**
 * How many imports in a row try again an image that failed for a reason a retry may fix (download
 * failed, server down) on a tour whose content did not change. After that it stays failed, with its
 * reason, until the tour changes.
 */
export const IMAGE_RETRY_IMPORTS = 3;

/** What the DB knows of these tours, in one query (used to skip unchanged tours without a child workflow). */
export async function findTourStates(
  db: Queryable,
  operatorId: string,
  externalIds: string[],
): Promise<Map<string, StoredTourState>> {
  const { rows } = await db.query(
    `SELECT external_id, status, content_hash, source_updated_at,
            image_retries <= $3 AND EXISTS (SELECT 1 FROM tour_assets a
              WHERE a.tour_id = t.id AND a.status = 'failed' AND a.failure_retryable) AS retry_images
       FROM tours t WHERE operator_id = $1 AND external_id = ANY($2::text[])`,
    [operatorId, externalIds, IMAGE_RETRY_IMPORTS],
  );
  return new Map(
    rows.map((r) => [
      r.external_id,
      {
        externalId: r.external_id,
        status: r.status,
        contentHash: r.content_hash,
        sourceUpdatedAt: r.source_updated_at ? (r.source_updated_at as Date).toISOString() : null,
        retryImages: r.retry_images === true,
      },
    ]),
  );
}

/** The external ids of the operator's active tours. */
export async function activeExternalIds(db: Queryable, operatorId: string): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT external_id FROM tours WHERE operator_id = $1 AND status = 'active' ORDER BY external_id`,
    [operatorId],
  );
  return rows.map((r) => r.external_id as string);
}

export async function stampListed(db: Queryable, operatorId: string, externalIds: string[], runId: number) {
  await db.query(
    `UPDATE tours SET last_listed_run = $3 WHERE operator_id = $1 AND external_id = ANY($2::text[])`,
    [operatorId, externalIds, runId],
  );
}

/**
 * Marks a tour removed, with no removal guard: the pipeline's removals go through src/db/removals.ts
 * (an import's at its end, a push's through the guard's window). Unknown tours are ignored.
 */
export async function markRemoved(db: Queryable, operatorId: string, externalId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE tours SET status = 'removed', removed_at = now(), updated_at = now()
      WHERE operator_id = $1 AND external_id = $2 AND status <> 'removed'`,
    [operatorId, externalId],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * Stages fetched or listed tours (the workflow carries only their hash). Staging the same content again
 * makes it persistable again: the listing re-stages a tour whose images are to be retried.
 */
export async function stageTours(
  db: Queryable,
  staged: { tour: Tour; contentHash: string }[],
  fetchedAt: Date,
): Promise<void> {
  if (!staged.length) return;
  await db.query(
    `INSERT INTO staged_tours (operator_id, external_id, content_hash, data, fetched_at)
     SELECT operator_id, external_id, content_hash, data, $5
       FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) AS s(operator_id, external_id, content_hash, data)
     ON CONFLICT (operator_id, external_id, content_hash) DO UPDATE
       SET fetched_at = GREATEST(staged_tours.fetched_at, EXCLUDED.fetched_at), persisted_outcome = NULL,
           persisted_at = NULL`,
    [
      staged.map((s) => s.tour.operatorId),
      staged.map((s) => s.tour.externalId),
      staged.map((s) => s.contentHash),
      staged.map((s) => JSON.stringify(s.tour)),
      fetchedAt,
    ],
  );
}

export interface StagedTour {
  tour: Tour;
  contentHash: string;
  fetchedAt: Date;
  /** Set once persisted: what that persist stored. */
  persistedOutcome: 'imported' | 'stale' | null;
}

function toStaged(r: Record<string, unknown>): StagedTour {
  return {
    tour: r.data as Tour,
    contentHash: r.content_hash as string,
    fetchedAt: r.fetched_at as Date,
    persistedOutcome: r.persisted_outcome as StagedTour['persistedOutcome'],
  };
}

/** The staged tour of that content hash or, without one, the newest staged (what the listing saw last). */
export async function readStagedTour(
  db: Queryable,
  operatorId: string,
  externalId: string,
  contentHash?: string,
): Promise<StagedTour | undefined> {
  const { rows } = await db.query(
    `SELECT data, content_hash, fetched_at, persisted_outcome FROM staged_tours
      WHERE operator_id = $1 AND external_id = $2 AND ($3::text IS NULL OR content_hash = $3)
      ORDER BY fetched_at DESC LIMIT 1`,
    [operatorId, externalId, contentHash ?? null],
  );
  return rows[0] ? toStaged(rows[0]) : undefined;
}

/** Keeps the staged row, with what its persist stored, until the sweep: a re-run finds the outcome. */
export async function markStagedPersisted(
  db: Queryable,
  operatorId: string,
  externalId: string,
  contentHash: string,
  outcome: 'imported' | 'stale',
) {
  await db.query(
    `UPDATE staged_tours SET persisted_outcome = $4, persisted_at = now()
      WHERE operator_id = $1 AND external_id = $2 AND content_hash = $3`,
    [operatorId, externalId, contentHash, outcome],
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
       fetched_at = EXCLUDED.fetched_at, updated_at = now(),
       image_retries = CASE WHEN tours.content_hash = EXCLUDED.content_hash THEN tours.image_retries ELSE 0 END
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

export type { TourAssetInput } from '../domain/tour-images.js';

/**
 * Replaces a tour's image list (order, per-image status) in the caller's transaction, and counts the
 * imports in a row that left an image failed for a reason a retry may fix.
 */
export async function replaceTourAssets(
  db: Queryable,
  tourId: number,
  assets: TourAssetInput[],
): Promise<void> {
  await db.query('DELETE FROM tour_assets WHERE tour_id = $1', [tourId]);
  const retryable = assets.some((a) => a.status === 'failed' && a.failureRetryable);
  await db.query(
    `UPDATE tours SET image_retries = CASE WHEN $2 THEN image_retries + 1 ELSE 0 END WHERE id = $1`,
    [tourId, retryable],
  );
  if (!assets.length) return;
  await db.query(
    `INSERT INTO tour_assets (tour_id, position, source_url, caption, sha256, status, failure_reason,
                              failure_retryable)
     SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                              $8::boolean[])`,
    [
      tourId,
      assets.map((a) => a.position),
      assets.map((a) => a.sourceUrl),
      assets.map((a) => a.caption),
      assets.map((a) => a.sha256),
      assets.map((a) => a.status),
      assets.map((a) => a.failureReason),
      assets.map((a) => a.failureRetryable ?? false),
    ],
  );
}

/**
 * Tours whose images the next import should try again (see IMAGE_RETRY_IMPORTS), as stored: a delta
 * listing does not list a tour that did not change, so the import stages these from our own copy.
 */
export async function readToursToRetryImages(
  db: Queryable,
  operatorId: string,
  limit: number,
): Promise<{ tour: Tour; contentHash: string; fetchedAt: Date }[]> {
  const { rows } = await db.query(
    `SELECT t.external_id, t.title, t.description, t.duration_minutes, t.price_amount, t.price_currency,
            t.location, t.content_hash, t.source_updated_at, t.fetched_at,
            (SELECT coalesce(json_agg(json_build_object('url', a.source_url, 'caption', a.caption)
                                      ORDER BY a.position), '[]') FROM tour_assets a WHERE a.tour_id = t.id) AS images
       FROM tours t
      WHERE t.operator_id = $1 AND t.status = 'active' AND t.image_retries <= $2 AND t.content_hash IS NOT NULL
        AND EXISTS (SELECT 1 FROM tour_assets a WHERE a.tour_id = t.id AND a.status = 'failed' AND a.failure_retryable)
      ORDER BY t.external_id LIMIT $3`,
    [operatorId, IMAGE_RETRY_IMPORTS, limit],
  );
  return rows.map((r) => ({
    contentHash: r.content_hash,
    fetchedAt: r.fetched_at,
    tour: {
      operatorId,
      externalId: r.external_id,
      title: r.title,
      description: r.description ?? '',
      durationMinutes: r.duration_minutes,
      price: r.price_amount === null ? null : { amount: Number(r.price_amount), currency: r.price_currency },
      location: r.location,
      images: r.images,
      sourceUpdatedAt: r.source_updated_at ? (r.source_updated_at as Date).toISOString() : null,
    },
  }));
}
