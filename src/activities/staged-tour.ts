/**
 * A tour's persist from its staged record, shared by the tour worker's persistTour
 * (src/activities/tour.ts) and the image worker's importTourImages (src/activities/images.ts), which
 * persists the tour with its images.
 */
import { log } from '@temporalio/activity';
import * as assets from '../db/assets.js';
import { inTransaction, type Pool, type Queryable } from '../db/pool.js';
import * as tours from '../db/tours.js';
import type { TourAssetInput } from '../domain/tour-images.js';
import { nonRetryable } from './failures.js';
import { PERMANENT_FAILURES } from '../domain/errors.js';

/**
 * The persist found that the blob GC swept some of the tour's images after they were imported (unreferenced
 * for its grace period until this tour took them up): nothing was written, and these images are imported
 * again before the tour is persisted.
 */
export interface ImagesSwept {
  outcome: 'images-swept';
  urls: string[];
}

/**
 * Writes the staged tour, its image order and per-image status in one transaction (version-guarded),
 * holding the images' assets against the blob GC's sweep while it refers to them.
 */
export async function persistStagedTour(
  pool: Pool,
  a: { operatorId: string; externalId: string; contentHash: string; images: TourAssetInput[] },
): Promise<{ outcome: 'imported' | 'stale' } | ImagesSwept> {
  return inTransaction(pool, async (tx) => {
    const staged = await tours.readStagedTour(tx, a.operatorId, a.externalId, a.contentHash);
    if (!staged) return persistedBefore(tx, a);
    // A persist that runs again after its commit: what it stored then.
    if (staged.persistedOutcome) return { outcome: staged.persistedOutcome };
    const ready = a.images.filter((i) => i.status === 'ready' && i.sha256);
    const held = await assets.holdAssets(
      tx,
      ready.map((i) => i.sha256!),
    );
    const swept = ready.filter((i) => !held.has(i.sha256!)).map((i) => i.sourceUrl);
    if (swept.length) {
      log.warn('images swept by the blob GC before the tour was persisted: importing them again', {
        operatorId: a.operatorId,
        externalId: a.externalId,
        swept: swept.length,
      });
      return { outcome: 'images-swept' as const, urls: swept };
    }
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

/**
 * No staged record of this content: a persist retried after its staged row was pruned (an hour after the
 * persist) finds its tour stored with this content, and that is what it did. Otherwise the record was
 * swept before any persist: the next import stages it again.
 */
async function persistedBefore(
  db: Queryable,
  a: { operatorId: string; externalId: string; contentHash: string },
): Promise<{ outcome: 'imported' }> {
  const stored = (await tours.findTourStates(db, a.operatorId, [a.externalId])).get(a.externalId);
  if (stored?.status === 'active' && stored.contentHash === a.contentHash) return { outcome: 'imported' };
  throw nonRetryable(
    PERMANENT_FAILURES.stagedTourMissing,
    `tour ${a.operatorId}/${a.externalId}: its staged data (${a.contentHash}) is gone (swept after a day?); ` +
      'the next import stages it again',
  );
}
