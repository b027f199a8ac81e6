import * as assets from '../db/assets.js';
import type { Pool } from '../db/pool.js';
import { allVariantsExist, type OutputFormat } from '../images/resize.js';
import type { BlobStore } from '../storage/blob-store.js';

/**
 * Whether every configured (width, format) variant of an original is recorded and stored, so its
 * resize can be skipped. Compared as a set: a changed IMAGE_SIZES with as many entries still resizes.
 */
export async function variantsComplete(
  deps: { pool: Pool; store: BlobStore; images: { widths: readonly number[]; formats: readonly string[] } },
  sha256: string,
): Promise<boolean> {
  const recorded = new Set(
    (await assets.listVariants(deps.pool, sha256)).map((v) => `${v.width}/${v.format}`),
  );
  const { widths, formats } = deps.images;
  const allRecorded = widths.every((w) => formats.every((f) => recorded.has(`${w}/${f}`)));
  return allRecorded && allVariantsExist(deps.store, sha256, widths, formats as OutputFormat[]);
}
