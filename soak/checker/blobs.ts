import type { Pool } from '../../src/db/pool.js';
import type { BlobStore } from '../../src/storage/blob-store.js';
import { verdict, type InvariantResult } from './types.js';

/** Blob rows held against the blob store itself (a HEAD per object on S3). */

/** Runs `fn` over `items`, `limit` at a time. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

interface ReadyAsset {
  sha256: string | null;
  storage_key: string | null;
  variants: { width: number; format: string; storage_key: string }[] | null;
  tours: string[];
}

/** Every asset a tour shows as ready has its original and every configured variant in the store. */
export async function readyAssetsStored(
  pool: Pool,
  store: BlobStore,
  images: { widths: readonly number[]; formats: readonly string[] },
): Promise<InvariantResult> {
  const { rows: assets } = await pool.query<ReadyAsset>(
    `SELECT ta.sha256, a.storage_key,
            (SELECT json_agg(json_build_object('width', v.width, 'format', v.format, 'storage_key', v.storage_key))
               FROM asset_variants v WHERE v.sha256 = ta.sha256) AS variants,
            array_agg(DISTINCT t.operator_id || '/' || t.external_id) AS tours
       FROM tour_assets ta JOIN tours t ON t.id = ta.tour_id LEFT JOIN assets a ON a.sha256 = ta.sha256
      WHERE ta.status = 'ready'
      GROUP BY ta.sha256, a.storage_key`,
  );
  const rows: Record<string, unknown>[] = [];
  const broken = (a: ReadyAsset, problem: string) =>
    rows.push({ sha256: a.sha256, problem, tours: a.tours.slice(0, 3).join(' ') });
  await eachLimited(assets, 8, async (a) => {
    if (!a.sha256 || !a.storage_key) return void broken(a, 'ready without a stored original');
    if (!(await store.has(a.storage_key))) broken(a, `original ${a.storage_key} is not in the store`);
    const variants = new Map((a.variants ?? []).map((v) => [`${v.width}/${v.format}`, v.storage_key]));
    for (const width of images.widths)
      for (const format of images.formats) {
        const key = variants.get(`${width}/${format}`);
        if (!key) broken(a, `no variant row for ${width}/${format}`);
        else if (!(await store.has(key))) broken(a, `variant ${key} is not in the store`);
      }
  });
  return verdict(
    'every ready asset has its original and all variants stored',
    `${assets.length} ready assets`,
    rows,
  );
}

/** Every variant row names an object that exists, ready asset or not. */
export async function variantRowsStored(pool: Pool, store: BlobStore): Promise<InvariantResult> {
  const { rows: variants } = await pool.query<{
    sha256: string;
    width: number;
    format: string;
    storage_key: string;
  }>('SELECT sha256, width, format, storage_key FROM asset_variants ORDER BY sha256, width, format');
  const rows: Record<string, unknown>[] = [];
  await eachLimited(variants, 8, async (v) => {
    if (!(await store.has(v.storage_key)))
      rows.push({ ...v, problem: 'names an object that is not in the store' });
  });
  return verdict('every variant row names an existing object', `${variants.length} variant rows`, rows);
}
