import { log } from '@temporalio/activity';
import type { OperatorAdapter } from '../operators/types.js';
import {
  createPushedTourLookups,
  DETAIL_MISSING_MEMO_MS,
  type Found,
  type PushedTourLookups,
} from '../operators/find-in-listing.js';
import { inTransaction, type Pool } from '../db/pool.js';
import * as assets from '../db/assets.js';
import * as operators from '../db/operators.js';
import * as removals from '../db/removals.js';
import * as tours from '../db/tours.js';
import { tourContentHash } from '../domain/hash.js';
import {
  activeAtWindowStart,
  heldPushedRemovalsReason,
  operatorRemovalGuard,
  pushedRemovalNeedsAPerson,
} from '../domain/removal-guard.js';
import type { OperatorSchedules } from './operator-import/deps.js';
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
  /** The operator's Temporal Schedules, paused when pushed removals are held (unset: none to move). */
  schedules?: OperatorSchedules;
}

export function createTourActivities(deps: TourDeps) {
  // One per worker process: pushes in a burst share their listing scans (src/operators/find-in-listing.ts).
  const lookups = createPushedTourLookups();
  return {
    /**
     * The tour to import, staged in PostgreSQL: only its hash and image URLs go back to the workflow,
     * with the hash of each image that is ready and was checked recently (it needs no image activity).
     * A tour its operator's listing carried whole (A, B) was staged by the listing; otherwise it is
     * fetched from the per-product endpoint, or, for a push to an operator without one, found in a delta
     * listing. Only a tombstone removes it, through the removal guard (see tombstoned); a 404 never does
     * (see FetchResult).
     */
    async fetchTour(a: TourRequest & { force?: boolean }) {
      return withFailureMapping(() => fetchTour(deps, lookups, a));
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

async function fetchTour(deps: TourDeps, lookups: PushedTourLookups, a: TourRequest & { force?: boolean }) {
  const { pool } = deps;
  const adapter = await deps.adapterFor(a.operatorId);
  const stored = (await tours.findTourStates(pool, a.operatorId, [a.externalId])).get(a.externalId);
  const listed = a.listed && adapter.listingCarriesTours;
  const staged =
    (listed && (await listedTour(pool, a.operatorId, a.externalId))) ||
    (await fetchedTour({ pool, lookups, adapter }, a, stored));
  if (staged === 'unchanged since the mark') return { outcome: 'unchanged' as const };
  if (staged === 'tombstone') return { outcome: await tombstoned(deps, a, stored) };
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
 * The record the listing staged for this import (dialects A and B). None (a swept row): the tour is
 * fetched from the operator instead.
 */
async function listedTour(pool: Pool, operatorId: string, externalId: string) {
  const staged = await tours.readStagedTour(pool, operatorId, externalId);
  return staged && { ...staged, fromListing: true as const };
}

interface OperatorSide {
  pool: Pool;
  lookups: PushedTourLookups;
  adapter: OperatorAdapter;
}

type FromOperator = { tour: Tour; contentHash: string } | 'tombstone' | 'unchanged since the mark';

/**
 * The tour from the operator: its per-product endpoint, or a delta listing where it has none. An
 * operator whose file says nothing of it may still serve none (A's spec lets it serve its feed alone):
 * a pushed tour its per-product endpoint answers 404 for is looked up in the listing too, and once the
 * listing has such a tour, the operator's later pushes go there directly for a while.
 */
async function fetchedTour(
  o: OperatorSide,
  a: TourRequest,
  stored: tours.StoredTourState | undefined,
): Promise<FromOperator> {
  const { adapter, lookups } = o;
  const pushed = !a.listed;
  const detailAnswers = adapter.detailEndpoint && !(pushed && lookups.detailMissing(a.operatorId));
  if (!detailAnswers) return inDeltaListing(o, a, stored, 'its delta listing does not list it');
  const detail = await adapter.fetchTour(a.externalId);
  // A tour its listing just called active that the endpoint does not know is the operator's inconsistency.
  if (
    detail.kind !== 'not-found' ||
    !pushed ||
    !adapter.listingCarriesTours ||
    adapter.detailEndpointPromised
  )
    return fromOperator(detail, a, 'its per-product endpoint answered 404');
  const where = 'its per-product endpoint answered 404 and its delta listing does not list it';
  return inDeltaListing(o, a, stored, where, (found) => {
    if (found.kind === 'not-found' || !lookups.noteDetailMissing(a.operatorId)) return;
    log.warn(
      `operator ${a.operatorId}: its per-product endpoint answered 404 for pushed tour ${a.externalId}, ` +
        `which its listing has; its pushes are looked up in the listing for the next ` +
        `${DETAIL_MISSING_MEMO_MS / 60_000} minutes. Set \`detailEndpoint: false\` for this operator in the ` +
        'operators file if it serves no per-product endpoint.',
      { operatorId: a.operatorId, externalId: a.externalId },
    );
  });
}

/** The tour from a delta listing: a push waits for the next scan its operator's pushes share. */
async function inDeltaListing(
  { pool, lookups, adapter }: OperatorSide,
  a: TourRequest,
  stored: tours.StoredTourState | undefined,
  where: string,
  seen?: (found: Found) => void,
): Promise<FromOperator> {
  // Every change before the operator's delta mark has been imported (a rarely changed tour's own
  // date would list far more): a tour we have that the delta does not list has not changed since.
  const mark = (await operators.getOperator(pool, a.operatorId))?.deltaMark ?? undefined;
  const since = mark ?? stored?.sourceUpdatedAt ?? undefined;
  const result = await lookups.find(adapter, a.operatorId, a.externalId, since);
  seen?.(result);
  if (result.kind === 'not-found' && mark && stored?.status === 'active') return 'unchanged since the mark';
  return fromOperator(result, a, where);
}

function fromOperator(result: Found, a: TourRequest, notFoundBecause: string) {
  switch (result.kind) {
    case 'found':
      return { tour: result.tour, contentHash: tourContentHash(result.tour) };
    case 'tombstone':
      return 'tombstone' as const;
    case 'invalid':
      throw nonRetryable(PERMANENT_FAILURES.tourValidationFailed, result.error);
    case 'not-found':
      throw notFound(a, notFoundBecause);
  }
}

/**
 * What a tombstone comes to. Every removal goes through the removal guard: met by a tour its operator's
 * running import listed, it is noted with that import's removals, applied or held when the import ends
 * (`removal-noted`; already held for a person: `removal-held`); met by a push (or by a listed tour
 * whose import is gone), the guard decides it at once (see removePushedTour). A tour we do not hold as
 * active has nothing to remove (`gone`, as for a removal applied).
 */
async function tombstoned(
  deps: TourDeps,
  a: TourRequest,
  stored: tours.StoredTourState | undefined,
): Promise<'gone' | 'removal-noted' | 'removal-held'> {
  if (a.listed) {
    const importRunId = await removals.runningImportRunId(deps.pool, a.operatorId);
    if (importRunId !== undefined) {
      const noted = await removals.noteTombstone(deps.pool, a.operatorId, a.externalId, importRunId);
      log.info("tombstone for a listed tour: noted with its import's removals", { ...a, importRunId });
      if (noted) return 'removal-noted';
      return stored?.status === 'active' ? 'removal-held' : 'gone';
    }
  }
  if (stored?.status !== 'active') return 'gone';
  return removePushedTour(deps, a);
}

/**
 * A pushed tombstone, through the removal guard's window (src/domain/removal-guard.ts): applied at
 * once while the operator's pushed removals within the window stay under the guard; otherwise held for
 * a person with the removals the window already applied (taken back: the tours are active again), and
 * the operator paused by the removal guard, as an import's held removals pause it. Decisions on one
 * operator take turns on an advisory lock, so pushes decided at once on several workers each count the
 * others' removals.
 */
async function removePushedTour(deps: TourDeps, a: TourRequest): Promise<'gone' | 'removal-held'> {
  const op = await operators.getOperator(deps.pool, a.operatorId);
  const guard = operatorRemovalGuard(op?.settings ?? {});
  const held = await inTransaction(deps.pool, async (tx) => {
    await removals.lockPushedRemovals(tx, a.operatorId);
    const window = await removals.pushWindow(tx, a.operatorId, guard.pushWindowMs);
    if (!pushedRemovalNeedsAPerson(window, guard)) {
      await removals.removePushed(tx, a.operatorId, a.externalId);
      return undefined;
    }
    const takenBack = await removals.holdWindow(tx, a.operatorId);
    await removals.holdPushed(tx, a.operatorId, a.externalId);
    const count = await removals.countHeld(tx, a.operatorId);
    const reason = heldPushedRemovalsReason(a.operatorId, count, activeAtWindowStart(window), guard);
    await operators.setPaused(tx, a.operatorId, true, reason, op?.lastErrors ?? [], {
      pausedBy: 'removal-guard',
    });
    return { held: count, takenBack, reason };
  });
  if (!held) {
    log.info('pushed tombstone: tour removed', a);
    return 'gone';
  }
  log.warn('pushed removals held for a person', { ...a, ...held });
  // Every time, not only when this push paused it: a retry after the commit must still get here.
  await deps.schedules?.pause(a.operatorId, `operator paused: ${held.reason}`);
  return 'removal-held';
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
function notFound(a: TourRequest, where: string) {
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
