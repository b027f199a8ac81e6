import { Context, log } from '@temporalio/activity';
import type { OperatorAdapter } from '../operators/types.js';
import { inTransaction, type Pool } from '../db/pool.js';
import * as assets from '../db/assets.js';
import * as tours from '../db/tours.js';
import { tourContentHash } from '../domain/hash.js';
import type { BlobStore } from '../storage/blob-store.js';
import { downloadToBlobStore } from '../net/download.js';
import { withFailureMapping } from './failures.js';
import { variantsComplete } from './variants.js';

export interface TourDeps {
  pool: Pool;
  store: BlobStore;
  adapterFor(operatorId: string): Promise<OperatorAdapter>;
  images: {
    maxBytes: number;
    allowPrivateHosts: readonly string[];
    widths: readonly number[];
    formats: readonly string[];
  };
}

export function createTourActivities(deps: TourDeps) {
  const { pool } = deps;
  return {
    /**
     * Fetches one tour. Gone (404, tombstone) marks it removed; an unchanged content hash ends the import;
     * otherwise the tour is staged in PostgreSQL and only its hash and image URLs go back to the workflow.
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
        return {
          outcome: 'changed' as const,
          contentHash,
          images: result.tour.images.map((i) => ({ url: i.url, caption: i.caption })),
        };
      });
    },

    /**
     * Streams one image into the blob store (conditional GET on its stored ETag); returns its hash, key,
     * and whether its variants already exist (then the workflow skips the resize step altogether).
     */
    async downloadImage(a: { operatorId: string; url: string }) {
      return withFailureMapping(async () => {
        const known = await assets.findSource(pool, a.url);
        // Ask for a 304 only while we still hold the bytes the stored ETag stands for.
        const cached = known && (await deps.store.has(known.storageKey)) ? known : undefined;
        const ctx = Context.current();
        const result = await downloadToBlobStore({
          url: a.url,
          store: deps.store,
          maxBytes: deps.images.maxBytes,
          etag: cached?.etag,
          allowPrivateHosts: deps.images.allowPrivateHosts,
          onProgress: (bytes) => ctx.heartbeat(bytes),
          signal: ctx.cancellationSignal,
        });
        if (result.kind === 'not-modified') {
          if (!cached) throw new Error(`${a.url} answered 304 to an unconditional GET`);
          await assets.touchSource(pool, a.url);
          return {
            sha256: cached.sha256,
            storageKey: cached.storageKey,
            downloaded: false,
            variantsReady: await variantsComplete(deps, cached.sha256),
          };
        }
        return saveOriginal(a.url, result);
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

  async function saveOriginal(
    url: string,
    r: { sha256: string; key: string; bytes: number; etag: string | null; contentType: string | null },
  ) {
    await assets.upsertOriginal(pool, {
      sha256: r.sha256,
      storageKey: r.key,
      bytes: r.bytes,
      contentType: r.contentType,
      url,
      etag: r.etag,
    });
    return {
      sha256: r.sha256,
      storageKey: r.key,
      downloaded: true,
      variantsReady: await variantsComplete(deps, r.sha256),
    };
  }
}

export type TourActivities = ReturnType<typeof createTourActivities>;
