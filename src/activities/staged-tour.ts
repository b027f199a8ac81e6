/**
 * The steps of a tour's import around its staged record: the tour worker's fetchTour and persistTour
 * (src/activities/tour.ts), and the image worker's importTourImages (src/activities/images.ts), which
 * persists the tour with its images.
 */
import { log } from '@temporalio/activity';
import * as assets from '../db/assets.js';
import { inTransaction, type Pool } from '../db/pool.js';
import * as tours from '../db/tours.js';
import type { FetchedImage, TourAssetInput } from '../domain/tour-images.js';
import type { Tour } from '../domain/tour.js';
import type { BlobStore } from '../storage/blob-store.js';
import { nonRetryable } from './failures.js';
import { variantsComplete } from './variants.js';

export interface StagedTourDeps {
  pool: Pool;
  store: BlobStore;
  images: { widths: readonly number[]; formats: readonly string[]; recheckAfterMs?: number };
}

/** Whether the tour as we have it already holds this content (nothing to import). */
export function alreadyImported(
  a: { force?: boolean },
  stored: tours.StoredTourState | undefined,
  contentHash: string,
): boolean {
  return !a.force && stored?.status === 'active' && stored.contentHash === contentHash && !stored.retryImages;
}

/** The tour's images, each with its hash when it was checked recently and every size is stored. */
export async function imagesToImport(
  deps: StagedTourDeps,
  tour: Tour,
  force?: boolean,
): Promise<FetchedImage[]> {
  const ready = force
    ? new Map<string, string>()
    : await recentlyChecked(
        deps,
        tour.images.map((i) => i.url),
      );
  return tour.images.map((i) => ({ url: i.url, caption: i.caption, readySha256: ready.get(i.url) }));
}

/**
 * Images downloaded or answered 304 within IMAGE_RECHECK_MINUTES whose variants all exist: taken as
 * they are, so the tours of one import that share a photo cost one request for it, not one each.
 */
async function recentlyChecked(deps: StagedTourDeps, urls: string[]): Promise<Map<string, string>> {
  const after = deps.images.recheckAfterMs ?? 0;
  if (after <= 0 || urls.length === 0) return new Map();
  const checked = await assets.findCheckedSince(deps.pool, urls, new Date(Date.now() - after));
  const complete = await Promise.all([...checked].map(([, sha256]) => variantsComplete(deps, sha256)));
  return new Map([...checked].filter((_, i) => complete[i]));
}

/** Writes the staged tour, its image order and per-image status in one transaction (version-guarded). */
export async function persistStagedTour(
  pool: Pool,
  a: { operatorId: string; externalId: string; contentHash: string; images: TourAssetInput[] },
): Promise<{ outcome: 'imported' | 'stale' }> {
  return inTransaction(pool, async (tx) => {
    const staged = await tours.readStagedTour(tx, a.operatorId, a.externalId, a.contentHash);
    if (!staged)
      throw nonRetryable(
        'StagedTourMissing',
        `tour ${a.operatorId}/${a.externalId}: its staged data (${a.contentHash}) is gone (swept after a day?); ` +
          'the next import stages it again',
      );
    // A persist that runs again after its commit: what it stored then.
    if (staged.persistedOutcome) return { outcome: staged.persistedOutcome };
    const tourId = await tours.upsertTour(tx, staged.tour, a.contentHash, staged.fetchedAt);
    if (tourId !== undefined) await tours.replaceTourAssets(tx, tourId, a.images);
    const outcome = tourId === undefined ? ('stale' as const) : ('imported' as const);
    await tours.markStagedPersisted(tx, a.operatorId, a.externalId, a.contentHash, outcome);
    log.info('tour persisted', {
      operatorId: a.operatorId,
      externalId: a.externalId,
      contentHash: a.contentHash,
      outcome,
    });
    return { outcome };
  });
}
