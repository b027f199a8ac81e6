/**
 * A tour's persist from its staged record, shared by the tour worker's persistTour
 * (src/activities/tour.ts) and the image worker's importTourImages (src/activities/images.ts), which
 * persists the tour with its images.
 */
import { log } from '@temporalio/activity';
import { inTransaction, type Pool } from '../db/pool.js';
import * as tours from '../db/tours.js';
import type { TourAssetInput } from '../domain/tour-images.js';
import { nonRetryable } from './failures.js';
import { PERMANENT_FAILURES } from '../domain/errors.js';

/** Writes the staged tour, its image order and per-image status in one transaction (version-guarded). */
export async function persistStagedTour(
  pool: Pool,
  a: { operatorId: string; externalId: string; contentHash: string; images: TourAssetInput[] },
): Promise<{ outcome: 'imported' | 'stale' }> {
  return inTransaction(pool, async (tx) => {
    const staged = await tours.readStagedTour(tx, a.operatorId, a.externalId, a.contentHash);
    if (!staged)
      throw nonRetryable(
        PERMANENT_FAILURES.stagedTourMissing,
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
