import { randomUUID } from 'node:crypto';
import { Context, log } from '@temporalio/activity';
import type { Pool } from '../../db/pool.js';
import * as removals from '../../db/removals.js';
import * as runs from '../../db/runs.js';
import * as staged from '../../db/staged-listings.js';
import * as tours from '../../db/tours.js';
import { tourContentHash } from '../../domain/hash.js';
import type { ResolvedSettings } from '../../domain/operator-import.js';
import type { Tour } from '../../domain/tour.js';
import type { ListEntry, ListPage, OperatorAdapter } from '../../operators/types.js';
import { activityExecutionKey, activityWorkflowId, nonRetryable } from '../failures.js';
import type { OperatorImportDeps } from './deps.js';
import { PERMANENT_FAILURES } from '../../domain/errors.js';

export interface ListPageInput {
  operatorId: string;
  importRunId: number;
  position?: string;
  settings: ResolvedSettings;
}

/** What one listing page came to: the tours to import and the counts of the rest. */
export interface ListedPage {
  toImport: string[];
  listed: number;
  unchanged: number;
  removed: number;
  invalid: number;
  next?: string;
  deltaMark?: string;
}

/**
 * Lists one page and decides, against PostgreSQL in one batch, which tours need an import. Where the
 * listing carries whole tours (dialects A, B and D) those are staged here, and their ImportTour children
 * import the staged record without another call to the operator. A listing that is one answer (D) is
 * staged whole by the first call and paged from PostgreSQL after (stagedPage).
 */
export async function listPage(deps: OperatorImportDeps, a: ListPageInput): Promise<ListedPage> {
  const adapter = await deps.adapterFor(a.operatorId);
  const page = adapter.streamListing
    ? await stagedPage(deps.pool, adapter, a)
    : await adapter.listPage(a.position, {
        mode: a.settings.fullListing ? 'full' : 'delta',
        since: a.settings.since,
        pageSize: a.settings.pageSize,
      });
  const decided = await decide(deps.pool, a.operatorId, a.importRunId, page.entries, a.settings);
  // A delta lists only what changed: tours whose images are to be tried again join its first page.
  if (a.position === undefined && !a.settings.fullListing)
    decided.toImport.push(...(await stageImageRetries(deps.pool, a.operatorId, decided.toImport)));
  log.info('page listed', {
    operatorId: a.operatorId,
    listed: page.entries.length,
    toImport: decided.toImport.length,
    unchanged: decided.unchanged,
  });
  return { ...decided, listed: page.entries.length, next: page.next, deltaMark: page.deltaMark };
}

/** A staged listing's position: its staging attempt and the next entry's number. */
const STAGED_POSITION = /^staged:([0-9a-f-]{36}):(\d+)$/;
/** Entries written to PostgreSQL at once while the answer is parsed. */
const STAGE_BATCH = 500;

/**
 * A page of a listing that is one answer. The first call (no position) streams the whole answer into
 * PostgreSQL and returns its first page; later calls page through that copy. A retried first call finds
 * the listing an earlier attempt completed and pages it from the start, or stages it anew under its own
 * attempt; the listing exists only once an answer was parsed to its end, so a cut-off answer fails the
 * listing and is never a short one whose absences the removal guard would see.
 */
async function stagedPage(pool: Pool, adapter: OperatorAdapter, a: ListPageInput): Promise<ListPage> {
  const pageSize = Math.max(1, a.settings.pageSize);
  if (a.position === undefined) {
    const listing =
      (await staged.completedListing(pool, a.importRunId)) ?? (await stageListing(pool, adapter, a));
    return stagedEntries(pool, a.importRunId, listing, 0, pageSize);
  }
  const position = STAGED_POSITION.exec(a.position);
  if (!position) throw new Error(`invalid staged listing position "${a.position.slice(0, 100)}"`);
  const listing = await staged.completedListing(pool, a.importRunId);
  if (listing?.attempt !== position[1]) throw stagedListingGone(a.importRunId);
  return stagedEntries(pool, a.importRunId, listing, Number(position[2]), pageSize);
}

async function stagedEntries(
  pool: Pool,
  importRunId: number,
  listing: staged.StagedListing,
  from: number,
  pageSize: number,
): Promise<ListPage> {
  const entries = await staged.readStagedEntries(pool, importRunId, listing.attempt, from, pageSize);
  const to = from + entries.length;
  if (entries.length < pageSize && to < listing.entries) throw stagedListingGone(importRunId);
  return { entries, next: to < listing.entries ? `staged:${listing.attempt}:${to}` : undefined };
}

function stagedListingGone(importRunId: number) {
  return nonRetryable(
    'StagedListingMissing',
    `the staged listing of import run ${importRunId} is gone (deleted while the import ran?): start the import again`,
  );
}

/** The whole answer into PostgreSQL, in batches as it is parsed; an attempt that fails leaves nothing. */
async function stageListing(pool: Pool, adapter: OperatorAdapter, a: ListPageInput) {
  const attempt = randomUUID();
  await staged.dropFinishedListings(pool, a.operatorId);
  let seq = 0;
  let batch: ListEntry[] = [];
  const flush = async () => {
    await staged.stageEntries(pool, a.importRunId, attempt, seq, batch);
    seq += batch.length;
    batch = [];
  };
  try {
    for await (const entry of adapter.streamListing!({ signal: cancellationSignal() })) {
      batch.push(entry);
      if (batch.length >= STAGE_BATCH) await flush();
    }
    await flush();
  } catch (err) {
    await staged.dropAttempt(pool, a.importRunId, attempt).catch(() => undefined);
    throw err;
  }
  const listing = await staged.completeListing(pool, a.importRunId, attempt, seq);
  log.info('listing staged', { operatorId: a.operatorId, entries: listing.entries });
  return listing;
}

/** The activity's cancellation (its timeout, the workflow's cancel): the answer's reading stops with it. */
function cancellationSignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined; // outside an activity (a script, a test)
  }
}

/**
 * Each entry of a page against what we hold: a tombstone is noted for removal when the import ends, an
 * invalid entry recorded as a failed tour, an active tour imported when new or changed (and staged when
 * the listing carries it whole) or counted unchanged.
 */
async function decide(
  pool: Pool,
  operatorId: string,
  importRunId: number,
  entries: ListEntry[],
  s: ResolvedSettings,
) {
  const ids = entries.map((e) => e.externalId);
  const known = await tours.findTourStates(pool, operatorId, ids);
  if (s.fullListing) await tours.stampListed(pool, operatorId, ids, importRunId);
  const toImport: string[] = [];
  const toStage: { tour: Tour; contentHash: string }[] = [];
  const listedActive: string[] = [];
  let unchanged = 0;
  let invalid = 0;
  // A tour listed twice on a page is decided once, by its later entry: the feed orders by update time.
  const latest = new Map(entries.map((e) => [e.externalId, e]));
  for (const e of latest.values()) {
    if (e.kind === 'removed') {
      // Evidence, applied when the import ends unless the removal guard holds this import's removals.
      await removals.noteTombstone(pool, operatorId, e.externalId, importRunId);
    } else if (e.kind === 'invalid') {
      invalid++;
      await recordInvalidEntry(pool, operatorId, e);
    } else {
      listedActive.push(e.externalId);
      const contentHash = e.tour && tourContentHash(e.tour);
      if (needsImport(e, contentHash, known.get(e.externalId), s.force)) {
        toImport.push(e.externalId);
        if (e.tour && contentHash) toStage.push({ tour: e.tour, contentHash });
      } else {
        unchanged++;
      }
    }
  }
  await removals.forgetPending(pool, operatorId, listedActive);
  await tours.stageTours(pool, toStage, new Date());
  return { toImport, unchanged, removed: 0, invalid };
}

async function recordInvalidEntry(
  pool: Pool,
  operatorId: string,
  e: Extract<ListEntry, { kind: 'invalid' }>,
) {
  await runs.recordFailure(pool, {
    operatorId,
    externalId: e.externalId,
    kind: PERMANENT_FAILURES.tourValidationFailed,
    message: e.error,
    recordedBy: activityExecutionKey(e.externalId),
    workflowId: activityWorkflowId(),
  });
}

/** Whether a listed tour needs an import: new, removed before, images to retry, or changed. */
export function needsImport(
  e: Extract<ListEntry, { kind: 'active' }>,
  contentHash: string | undefined,
  stored: tours.StoredTourState | undefined,
  force: boolean,
) {
  if (force || !stored || stored.status === 'removed' || stored.retryImages) return true;
  if (contentHash) return contentHash !== stored.contentHash;
  if (e.sourceUpdatedAt && stored.sourceUpdatedAt)
    return Date.parse(e.sourceUpdatedAt) > Date.parse(stored.sourceUpdatedAt);
  return true; // no data and no date in the listing (dialect C): only the detail fetch can tell
}

/** Most tours a delta adds for their images' sake: a bound, should an image host be down for long. */
const IMAGE_RETRIES_PER_IMPORT = 500;

/** Stages, from our own copy, the tours whose images the import should try again (unless listed). */
async function stageImageRetries(pool: Pool, operatorId: string, listed: string[]): Promise<string[]> {
  const retry = (await tours.readToursToRetryImages(pool, operatorId, IMAGE_RETRIES_PER_IMPORT)).filter(
    (r) => !listed.includes(r.tour.externalId),
  );
  // Staged as of when we fetched them: a push that fetched later must not be refused as stale.
  for (const r of retry) await tours.stageTours(pool, [r], r.fetchedAt);
  return retry.map((r) => r.tour.externalId);
}
