import type { Queryable } from './pool.js';

export async function findSource(
  db: Queryable,
  url: string,
): Promise<{ sha256: string; etag: string | null; storageKey: string } | undefined> {
  const { rows } = await db.query(
    `SELECT s.sha256, s.etag, a.storage_key FROM asset_sources s JOIN assets a USING (sha256) WHERE s.source_url = $1`,
    [url],
  );
  return rows[0]
    ? { sha256: rows[0].sha256, etag: rows[0].etag, storageKey: rows[0].storage_key }
    : undefined;
}

/** Records an original (content-addressed: one row however many URLs and tours share it) and where it came from. */
export async function upsertOriginal(
  db: Queryable,
  a: {
    sha256: string;
    storageKey: string;
    bytes: number;
    contentType: string | null;
    url: string;
    etag: string | null;
  },
): Promise<void> {
  await db.query(
    `WITH asset AS (
       INSERT INTO assets (sha256, storage_key, bytes, content_type) VALUES ($1, $2, $3, $4)
       ON CONFLICT (sha256) DO NOTHING)
     INSERT INTO asset_sources (source_url, sha256, etag) VALUES ($5, $1, $6)
     ON CONFLICT (source_url) DO UPDATE SET sha256 = EXCLUDED.sha256, etag = EXCLUDED.etag, checked_at = now()`,
    [a.sha256, a.storageKey, a.bytes, a.contentType, a.url, a.etag],
  );
}

/** The hash of each URL that was downloaded or answered 304 since `since`. */
export async function findCheckedSince(
  db: Queryable,
  urls: readonly string[],
  since: Date,
): Promise<Map<string, string>> {
  const { rows } = await db.query(
    `SELECT source_url, sha256 FROM asset_sources WHERE source_url = ANY($1::text[]) AND checked_at >= $2`,
    [urls, since],
  );
  return new Map(rows.map((r) => [r.source_url as string, r.sha256 as string]));
}

export async function touchSource(db: Queryable, url: string): Promise<void> {
  await db.query('UPDATE asset_sources SET checked_at = now() WHERE source_url = $1', [url]);
}

export interface VariantRow {
  width: number;
  format: string;
  storageKey: string;
  actualWidth: number;
  actualHeight: number;
  bytes: number;
}

export async function listVariants(db: Queryable, sha256: string): Promise<VariantRow[]> {
  const { rows } = await db.query(
    `SELECT width, format, storage_key, actual_width, actual_height, bytes FROM asset_variants WHERE sha256 = $1`,
    [sha256],
  );
  return rows.map((r) => ({
    width: r.width,
    format: r.format,
    storageKey: r.storage_key,
    actualWidth: r.actual_width,
    actualHeight: r.actual_height,
    bytes: Number(r.bytes),
  }));
}

export async function saveVariants(
  db: Queryable,
  sha256: string,
  source: { width: number; height: number; format: string },
  variants: VariantRow[],
): Promise<void> {
  await db.query(`UPDATE assets SET width = $2, height = $3, format = $4 WHERE sha256 = $1`, [
    sha256,
    source.width,
    source.height,
    source.format,
  ]);
  for (const v of variants) {
    await db.query(
      `INSERT INTO asset_variants (sha256, width, format, storage_key, actual_width, actual_height, bytes)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (sha256, width, format) DO UPDATE SET storage_key = EXCLUDED.storage_key,
         actual_width = EXCLUDED.actual_width, actual_height = EXCLUDED.actual_height, bytes = EXCLUDED.bytes`,
      [sha256, v.width, v.format, v.storageKey, v.actualWidth, v.actualHeight, v.bytes],
    );
  }
}
