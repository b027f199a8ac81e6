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

/**
 * Records an original (content-addressed: one row however many URLs and tours share it) and where it came
 * from, before its blob is stored: the blob GC's sweep (src/db/blob-gc.ts) holds the asset row while it
 * deletes an asset's rows and blobs, and this waits for it (the no-op update locks the row), so an import
 * either finds the asset kept (checked just now: in use) or records it afresh after the sweep and then
 * stores the blob the sweep deleted.
 */
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
       ON CONFLICT (sha256) DO UPDATE SET bytes = assets.bytes)
     INSERT INTO asset_sources (source_url, sha256, etag) VALUES ($5, $1, $6)
     ON CONFLICT (source_url) DO UPDATE SET sha256 = EXCLUDED.sha256, etag = EXCLUDED.etag, checked_at = now()`,
    [a.sha256, a.storageKey, a.bytes, a.contentType, a.url, a.etag],
  );
}

/**
 * Renews a source's check for an import that takes its stored original as it is (the operator answered
 * 304), holding its asset row against the blob GC's sweep meanwhile, so a sweep after it sees the asset in
 * use. False when a sweep deleted the asset first: the import downloads it afresh.
 */
export async function claimSource(db: Queryable, url: string, sha256: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `WITH asset AS (SELECT sha256 FROM assets WHERE sha256 = $2 FOR KEY SHARE)
     UPDATE asset_sources s SET checked_at = now() FROM asset
      WHERE s.source_url = $1 AND s.sha256 = asset.sha256`,
    [url, sha256],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * Of these originals, those whose asset rows exist, held until the transaction ends (a sweep that would
 * delete one waits, and one it deleted first is missing): a persist refers only to assets it holds.
 */
export async function holdAssets(db: Queryable, hashes: readonly string[]): Promise<Set<string>> {
  if (!hashes.length) return new Set();
  const { rows } = await db.query(
    `SELECT sha256 FROM assets WHERE sha256 = ANY($1::text[]) ORDER BY sha256 FOR KEY SHARE`,
    [[...new Set(hashes)]],
  );
  return new Set(rows.map((r) => r.sha256 as string));
}

/** Of these image URLs, those already downloaded once (an import would ask again, conditionally). */
export async function knownSources(db: Queryable, urls: readonly string[]): Promise<Set<string>> {
  if (!urls.length) return new Set();
  const { rows } = await db.query('SELECT source_url FROM asset_sources WHERE source_url = ANY($1::text[])', [
    urls,
  ]);
  return new Set(rows.map((r) => r.source_url as string));
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

/**
 * Records an original's size and its variants, in the caller's transaction. The update locks the asset
 * row, so the variants are recorded only while their asset exists: false when the blob GC's sweep deleted
 * it since the import began (its variants' blobs with it), and nothing is recorded.
 */
export async function saveVariants(
  db: Queryable,
  sha256: string,
  source: { width: number; height: number; format: string },
  variants: VariantRow[],
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE assets SET width = $2, height = $3, format = $4 WHERE sha256 = $1`,
    [sha256, source.width, source.height, source.format],
  );
  if (!rowCount) return false;
  await db.query(
    `INSERT INTO asset_variants (sha256, width, format, storage_key, actual_width, actual_height, bytes)
     SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::int[], $6::int[], $7::bigint[])
     ON CONFLICT (sha256, width, format) DO UPDATE SET storage_key = EXCLUDED.storage_key,
       actual_width = EXCLUDED.actual_width, actual_height = EXCLUDED.actual_height, bytes = EXCLUDED.bytes`,
    [
      sha256,
      variants.map((v) => v.width),
      variants.map((v) => v.format),
      variants.map((v) => v.storageKey),
      variants.map((v) => v.actualWidth),
      variants.map((v) => v.actualHeight),
      variants.map((v) => v.bytes),
    ],
  );
  return true;
}
