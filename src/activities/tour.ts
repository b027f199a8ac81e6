import { log } from '@temporalio/activity';
import type { OperatorAdapter } from '../operators/types.js';
import { findInListing, type Found } from '../operators/find-in-listing.js';
import type { Pool } from '../db/pool.js';
import * as assets from '../db/assets.js';
import * as operators from '../db/operators.js';
import * as tours from '../db/tours.js';
import { tourContentHash } from '../domain/hash.js';
import type { Tour } from '../domain/tour.js';
import type { BlobStore } from '../storage/blob-store.js';
import { nonRetryable, withFailureMapping } from './failures.js';
import { variantsComplete } from './variants.js';
import { persistStagedTour } from './staged-tour.js';
import type { FetchedImage } from '../domain/tour-images.js';
import { PERMANENT_FAILURES } from '../domain/errors.js';

export interface TourDeps {
  pool: Pool;
  store: BlobStore;
  adapterFor(operatorId: string): Promise<OperatorAdapter>;
  images: { widths: readonly number[]; formats: readonly string[]; recheckAfterMs?: number };
}

export type { FetchedImage } from '../domain/tour-images.js';

export function createTourActivities(deps: TourDeps) {
  return {
    /**
     * The tour to import, staged in PostgreSQL: only its hash and image URLs go back to the workflow,
     * with the hash of each image that is ready and was checked recently (it needs no image activity).
     * A tour its operator's listing carried whole (A, B) was staged by the listing; otherwise it is
     * fetched from the per-product endpoint, or, for a push to an operator without one, found in a delta
     * listing. Only a tombstone removes it; a 404 never does (see FetchResult).
     */
    async fetchTour(a: TourRequest & { force?: boolean }) {
      return withFailureMapping(() => fetchTour(deps, a));
    },

    /** Writes the staged tour, its image order and per-image status in one transaction (version-guarded). */
    async persistTour(a: Parameters<typeof persistStagedTour>[1]) {
      return withFailureMapping(() => persistStagedTour(deps.pool, a));
    },
  };
}

interface TourRequest {
  operatorId: string;
  externalId: string;
  /** Named by its operator's listing in an import (not pushed, not started by hand). */
  listed?: boolean;
}

async function fetchTour(deps: TourDeps, a: TourRequest & { force?: boolean }) {
  const { pool } = deps;
  const adapter = await deps.adapterFor(a.operatorId);
  const stored = (await tours.findTourStates(pool, a.operatorId, [a.externalId])).get(a.externalId);
  const listed = a.listed && adapter.listingCarriesTours;
  const staged =
    (listed && (await listedTour(pool, a.operatorId, a.externalId))) ||
    (await fetchedTour(pool, adapter, a, stored));
  if (staged === 'unchanged since the mark') return { outcome: 'unchanged' as const };
  if (staged === 'tombstone') {
    log.info('tombstone for the tour: marked removed', a);
    await tours.markRemoved(pool, a.operatorId, a.externalId);
    return { outcome: 'gone' as const };
  }
  const { tour, contentHash } = staged;
  const retryImages = stored?.retryImages ?? false;
  if (!a.force && stored?.status === 'active' && stored.contentHash === contentHash && !retryImages) {
    return { outcome: 'unchanged' as const };
  }
  if (!('fromListing' in staged)) await tours.stageTours(pool, [staged], new Date());
  const urls = tour.images.map((i) => i.url);
  const ready = a.force ? new Map<string, string>() : await recentlyChecked(deps, urls);
  return {
    outcome: 'changed' as const,
    contentHash,
    images: tour.images.map((i): FetchedImage => ({
      url: i.url,
      caption: i.caption,
      readySha256: ready.get(i.url),
    })),
  };
}

/**
 * The record the listing staged for this import (dialects A and B). None (an import listed by an
 * earlier release, or a swept row): the tour is fetched from the operator instead.
 */
async function listedTour(pool: Pool, operatorId: string, externalId: string) {
  const staged = await tours.readStagedTour(pool, operatorId, externalId);
  return staged && { ...staged, fromListing: true as const };
}

/** The tour from the operator: its per-product endpoint, or a delta listing where it has none. */
async function fetchedTour(
  pool: Pool,
  adapter: OperatorAdapter,
  a: TourRequest,
  stored: tours.StoredTourState | undefined,
): Promise<{ tour: Tour; contentHash: string } | 'tombstone' | 'unchanged since the mark'> {
  if (adapter.detailEndpoint) return fromOperator(await adapter.fetchTour(a.externalId), a, true);
  // Every change before the operator's delta mark has been imported (a rarely changed tour's own
  // date would list far more): a tour we have that the delta does not list has not changed since.
  const mark = (await operators.getOperator(pool, a.operatorId))?.deltaMark ?? undefined;
  const result = await findInListing(adapter, a.externalId, mark ?? stored?.sourceUpdatedAt ?? undefined);
  if (result.kind === 'not-found' && mark && stored?.status === 'active') return 'unchanged since the mark';
  return fromOperator(result, a, false);
}

function fromOperator(result: Found, a: TourRequest, detailEndpoint: boolean) {
  switch (result.kind) {
    case 'found':
      return { tour: result.tour, contentHash: tourContentHash(result.tour) };
    case 'tombstone':
      return 'tombstone';
    case 'invalid':
      throw nonRetryable(PERMANENT_FAILURES.tourValidationFailed, result.error);
    case 'not-found':
      throw notFound(a, detailEndpoint);
  }
}

/**
 * Images downloaded or answered 304 within IMAGE_RECHECK_MINUTES whose variants all exist: taken as
 * they are, so the tours of one import that share a photo cost one request for it, not one each.
 */
async function recentlyChecked(deps: TourDeps, urls: string[]): Promise<Map<string, string>> {
  const after = deps.images.recheckAfterMs ?? 0;
  if (after <= 0 || urls.length === 0) return new Map();
  const checked = await assets.findCheckedSince(deps.pool, urls, new Date(Date.now() - after));
  const complete = await Promise.all([...checked].map(([, sha256]) => variantsComplete(deps, sha256)));
  return new Map([...checked].filter((_, i) => complete[i]));
}

export type TourActivities = ReturnType<typeof createTourActivities>;

/**
 * A tour the operator does not answer for. Listed as active a moment ago: an inconsistency at the
 * operator, counted by the circuit breaker and tried again by the next import (the delta mark waits).
 * Pushed: nothing to import, and no evidence of removal either.
 */
function notFound(a: TourRequest, detailEndpoint: boolean) {
  const where = detailEndpoint
    ? 'its per-product endpoint answered 404'
    : 'its delta listing does not list it';
  return a.listed
    ? nonRetryable(
        'OperatorInconsistent',
        `tour ${a.operatorId}/${a.externalId} is listed as active but ${where}; not removed, tried again by the next import`,
      )
    : nonRetryable(
        'TourNotFound',
        `pushed tour ${a.operatorId}/${a.externalId}: ${where}; nothing imported, and not removed ` +
          '(a removal needs a tombstone or the tour missing from a complete listing)',
      );
}
