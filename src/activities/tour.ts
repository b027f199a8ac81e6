import { log } from '@temporalio/activity';
import type { OperatorAdapter } from '../operators/types.js';
import { inTransaction, type Pool } from '../db/pool.js';
import * as assets from '../db/assets.js';
import * as tours from '../db/tours.js';
import { tourContentHash } from '../domain/hash.js';
import type { BlobStore } from '../storage/blob-store.js';
import { withFailureMapping } from './failures.js';
import { variantsComplete } from './variants.js';

export interface TourDeps {
  pool: Pool;
  store: BlobStore;
  adapterFor(operatorId: string): Promise<OperatorAdapter>;
  images: { widths: readonly number[]; formats: readonly string[]; recheckAfterMs?: number };
}

/** A tour's image as fetchTour hands it to the workflow: no bytes; its hash when nothing is to do. */
export interface FetchedImage {
  url: string;
  caption: string | null;
  /** Checked recently and every size stored. */
  readySha256?: string;
}

export function createTourActivities(deps: TourDeps) {
  const { pool } = deps;
  return {
    /**
     * Fetches one tour. Gone (404, tombstone) marks it removed; an unchanged content hash ends the import;
     * otherwise the tour is staged in PostgreSQL and only its hash and image URLs go back to the workflow,
     * with the hash of each image that is ready and was checked recently (it needs no image activity).
     */
    async fetchTour(a: { operatorId: string; externalId: string; force?: boolean }) {
      return withFailureMapping(async () => {
        const fetchedAt = new Date();
        const result = await (await deps.adapterFor(a.operatorId)).fetchTour(a.externalId);
        if (result.kind === 'gone') {
          log.info('tour gone at the operator: marked removed', {
            operatorId: a.operatorId,
            externalId: a.externalId,
          });
          await tours.markRemoved(pool, a.operatorId, a.externalId);
          return { outcome: 'gone' as const };
        }
        const contentHash = tourContentHash(result.tour);
        const stored = (await tours.findTourStates(pool, a.operatorId, [a.externalId])).get(a.externalId);
        if (!a.force && stored?.status === 'active' && stored.contentHash === contentHash) {
          return { outcome: 'unchanged' as const };
        }
        await tours.stageTour(pool, result.tour, contentHash, fetchedAt);
        const urls = result.tour.images.map((i) => i.url);
        const ready = a.force ? new Map<string, string>() : await recentlyChecked(urls);
        return {
          outcome: 'changed' as const,
          contentHash,
          images: result.tour.images.map((i): FetchedImage => ({
            url: i.url,
            caption: i.caption,
            readySha256: ready.get(i.url),
          })),
        };
      });
    },

    /** Writes the staged tour, its image order and per-image status in one transaction (version-guarded). */
    async persistTour(a: {
      operatorId: string;
      externalId: string;
      contentHash: string;
      images: tours.TourAssetInput[];
    }) {
      return inTransaction(pool, async (tx) => {
        const staged = await tours.readStagedTour(tx, a.operatorId, a.externalId, a.contentHash);
        if (!staged) {
          // Already persisted by an earlier attempt of this activity (the staging row went with it).
          const stored = (await tours.findTourStates(tx, a.operatorId, [a.externalId])).get(a.externalId);
          if (stored?.contentHash === a.contentHash) return { outcome: 'imported' as const };
          throw new Error(
            `staged data of tour ${a.operatorId}/${a.externalId} (${a.contentHash}) is missing`,
          );
        }
        const tourId = await tours.upsertTour(tx, staged.tour, a.contentHash, staged.fetchedAt);
        if (tourId !== undefined) await tours.replaceTourAssets(tx, tourId, a.images);
        await tours.dropStagedTour(tx, a.operatorId, a.externalId, a.contentHash);
        const outcome = tourId === undefined ? ('stale' as const) : ('imported' as const);
        log.info('tour persisted', {
          operatorId: a.operatorId,
          externalId: a.externalId,
          contentHash: a.contentHash,
          outcome,
        });
        return { outcome };
      });
    },
  };

  /**
   * Images downloaded or answered 304 within IMAGE_RECHECK_MINUTES whose variants all exist: taken as
   * they are, so the tours of one import that share a photo cost one request for it, not one each.
   */
  async function recentlyChecked(urls: string[]): Promise<Map<string, string>> {
    const after = deps.images.recheckAfterMs ?? 0;
    if (after <= 0 || urls.length === 0) return new Map();
    const checked = await assets.findCheckedSince(pool, urls, new Date(Date.now() - after));
    const complete = await Promise.all([...checked].map(([, sha256]) => variantsComplete(deps, sha256)));
    return new Map([...checked].filter((_, i) => complete[i]));
  }
}

export type TourActivities = ReturnType<typeof createTourActivities>;
