import { log } from '@temporalio/activity';
import type { Pool } from '../../db/pool.js';
import * as removals from '../../db/removals.js';
import * as runs from '../../db/runs.js';
import * as tours from '../../db/tours.js';
import { tourContentHash } from '../../domain/hash.js';
import type { ResolvedSettings } from '../../domain/operator-import.js';
import type { Tour } from '../../domain/tour.js';
import type { ListEntry } from '../../operators/types.js';
import { activityExecutionKey, activityWorkflowId } from '../failures.js';
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
 * listing carries whole tours (dialects A and B) those are staged here, and their ImportTour children
 * import the staged record without another call to the operator.
 */
export async function listPage(deps: OperatorImportDeps, a: ListPageInput): Promise<ListedPage> {
  const adapter = await deps.adapterFor(a.operatorId);
  const page = await adapter.listPage(a.position, {
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
