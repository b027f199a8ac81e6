import type { VariantRow } from './assets.js';
import type { Queryable } from './pool.js';
import { readCounts } from './read-counts.js';
import { RUN_COLUMNS, toImportRun, type ImportRunRow } from './runs.js';

/**
 * Read-only queries of the catalog pages (src/api/catalog/): the marketplace's catalog as people browse
 * it. Every query is parameterized and maps rows at this boundary.
 */

export const THUMB = { width: 200, format: 'webp' } as const;

/**
 * The latest `perOperator` runs of every operator, in one query (hundreds of operators, one page): each
 * operator's newest runs through import_runs_operator, never the whole table.
 */
export async function recentRuns(db: Queryable, perOperator = 3): Promise<Map<string, ImportRunRow[]>> {
  const { rows } = await db.query(
    `SELECT r.* FROM operators o
       CROSS JOIN LATERAL (SELECT ${RUN_COLUMNS} FROM import_runs WHERE operator_id = o.id
                            ORDER BY started_at DESC, id DESC LIMIT $1) r
      ORDER BY r.operator_id, r.started_at DESC, r.id DESC`,
    [perOperator],
  );
  const byOperator = new Map<string, ImportRunRow[]>();
  for (const r of rows) {
    const run = toImportRun(r);
    byOperator.set(run.operatorId, [...(byOperator.get(run.operatorId) ?? []), run]);
  }
  return byOperator;
}

/** Active and removed tours per operator, from the counts kept on write (src/db/read-counts.ts). */
export async function tourCounts(db: Queryable): Promise<Map<string, { active: number; removed: number }>> {
  const counts = new Map<string, { active: number; removed: number }>();
  for (const c of await readCounts(db, 'tours')) {
    const op = counts.get(c.operatorId) ?? { active: 0, removed: 0 };
    if (c.labels.status === 'active' || c.labels.status === 'removed') op[c.labels.status] = c.n;
    counts.set(c.operatorId, op);
  }
  return counts;
}

export interface TourListItem {
  id: number;
  operatorId: string;
  externalId: string;
  title: string | null;
  price: string | null;
  thumbKey: string | null;
}

/** `%`, `_` and `\` in the search text are matched literally. */
function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A page of active tours in title order (index tours_active_title), and how many there are: without
 * search text, from the counts kept on write. With search text, counting the matches reads every active
 * tour: a substring search has no index here (pg_trgm would give it one).
 */
export async function searchTours(
  db: Queryable,
  q: string,
  limit: number,
  offset: number,
): Promise<{ tours: TourListItem[]; total: number }> {
  const { rows } = await db.query(
    `SELECT t.id, t.operator_id, t.external_id, t.title, t.price_amount, t.price_currency, thumb.storage_key
       FROM tours t
       LEFT JOIN LATERAL (
         SELECT v.storage_key FROM tour_assets a JOIN asset_variants v ON v.sha256 = a.sha256
          WHERE a.tour_id = t.id AND a.status = 'ready' AND v.width = $4 AND v.format = $5
          ORDER BY a.position LIMIT 1) thumb ON true
      WHERE t.status = 'active' AND ($1 = '' OR t.title ILIKE $6 ESCAPE '\\')
      ORDER BY lower(t.title), t.id LIMIT $2 OFFSET $3`,
    [q, limit, offset, THUMB.width, THUMB.format, likePattern(q)],
  );
  return {
    total: q ? await countMatches(db, q) : sumActive(await tourCounts(db)),
    tours: rows.map((r) => ({
      id: Number(r.id),
      operatorId: r.operator_id,
      externalId: r.external_id,
      title: r.title,
      price: r.price_amount === null ? null : `${r.price_amount} ${r.price_currency ?? ''}`.trim(),
      thumbKey: r.storage_key,
    })),
  };
}

async function countMatches(db: Queryable, q: string): Promise<number> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM tours WHERE status = 'active' AND title ILIKE $1 ESCAPE '\\'`,
    [likePattern(q)],
  );
  return rows[0].n;
}

function sumActive(counts: Map<string, { active: number }>): number {
  return [...counts.values()].reduce((n, c) => n + c.active, 0);
}

export interface TourDetail {
  id: number;
  operatorId: string;
  externalId: string;
  status: string;
  title: string | null;
  description: string | null;
  durationMinutes: number | null;
  price: string | null;
  updatedAt: Date;
  images: {
    position: number;
    caption: string | null;
    status: string;
    failureReason: string | null;
    originalKey: string | null;
    original: { width: number | null; height: number | null; format: string | null } | null;
    variants: VariantRow[];
  }[];
}

export async function tourDetail(db: Queryable, id: number): Promise<TourDetail | undefined> {
  const t = await db.query(
    `SELECT id, operator_id, external_id, status, title, description, duration_minutes, price_amount,
            price_currency, updated_at FROM tours WHERE id = $1`,
    [id],
  );
  const r = t.rows[0];
  if (!r) return undefined;
  const a = await db.query(
    `SELECT ta.position, ta.caption, ta.status, ta.failure_reason, s.storage_key, s.width, s.height, s.format,
            COALESCE(json_agg(json_build_object('width', v.width, 'format', v.format, 'storageKey', v.storage_key,
              'actualWidth', v.actual_width, 'actualHeight', v.actual_height, 'bytes', v.bytes)
              ORDER BY v.width DESC, v.format) FILTER (WHERE v.sha256 IS NOT NULL), '[]') AS variants
       FROM tour_assets ta LEFT JOIN assets s ON s.sha256 = ta.sha256
       LEFT JOIN asset_variants v ON v.sha256 = ta.sha256
      WHERE ta.tour_id = $1
      GROUP BY ta.position, ta.caption, ta.status, ta.failure_reason, s.storage_key, s.width, s.height, s.format
      ORDER BY ta.position`,
    [id],
  );
  return {
    id: Number(r.id),
    operatorId: r.operator_id,
    externalId: r.external_id,
    status: r.status,
    title: r.title,
    description: r.description,
    durationMinutes: r.duration_minutes,
    price: r.price_amount === null ? null : `${r.price_amount} ${r.price_currency ?? ''}`.trim(),
    updatedAt: r.updated_at,
    images: a.rows.map((x) => ({
      position: x.position,
      caption: x.caption,
      status: x.status,
      failureReason: x.failure_reason,
      originalKey: x.storage_key,
      original: x.storage_key ? { width: x.width, height: x.height, format: x.format } : null,
      variants: x.variants,
    })),
  };
}

/** The content type recorded when an original was downloaded (variants carry theirs in the key). */
export async function originalContentType(db: Queryable, storageKey: string): Promise<string | null> {
  const { rows } = await db.query(`SELECT content_type, format FROM assets WHERE storage_key = $1`, [
    storageKey,
  ]);
  const r = rows[0];
  if (!r) return null;
  return r.format ? `image/${r.format === 'jpg' ? 'jpeg' : r.format}` : r.content_type;
}
