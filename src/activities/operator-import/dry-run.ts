import { Context } from '@temporalio/activity';
import * as assets from '../../db/assets.js';
import * as removals from '../../db/removals.js';
import * as tours from '../../db/tours.js';
import { PERMANENT_FAILURES } from '../../domain/errors.js';
import { tourContentHash } from '../../domain/hash.js';
import {
  resolveSettings,
  type ImportMode,
  type ImportSettings,
  type ResolvedSettings,
} from '../../domain/operator-import.js';
import { heldRemovalsReason, operatorRemovalGuard, removalsNeedAPerson } from '../../domain/removal-guard.js';
import type { Tour } from '../../domain/tour.js';
import type { ListEntry, OperatorAdapter } from '../../operators/types.js';
import { requireOperator, type OperatorImportDeps } from './deps.js';
import { needsImport } from './listing.js';

/** Examples kept of each kind of outcome: enough to see what an import would do, small in a history. */
const EXAMPLES = 5;

/** A count and its first few examples (external ids, or URLs for images, with why where there is one). */
interface Counted {
  count: number;
  examples: string[];
}

/** What an import would do, listed and decided exactly as one would, with nothing written. */
export interface DryRunReport {
  operatorId: string;
  mode: ImportMode;
  /** Whether the whole catalog was listed, so tours missing from it would be removed. */
  fullListing: boolean;
  pages: number;
  listed: number;
  added: Counted;
  changed: Counted;
  unchanged: number;
  /** Tombstones of active tours and, after a full listing, active tours it did not list. */
  removed: Counted;
  /** Whether the removal guard would hold the removals for a person (and pause the operator). */
  removalsHeld: boolean;
  removalsReason?: string;
  invalid: Counted;
  /** Tours whose detail fetch would fail (dialect C), with why. */
  failed: Counted;
  /** Image URLs of added and changed tours not stored yet: they would be downloaded. */
  newImages: Counted;
  /** Tours a delta would import again for images a retry may fix. */
  imageRetries: number;
  activeAtStart: number;
}

export interface DryRunInput {
  operatorId: string;
  mode: ImportMode;
  settings?: ImportSettings;
}

/**
 * Lists the operator's catalog and decides each tour as an import would (src/activities/operator-import/
 * listing.ts, the same content hashes and rules; dialect C's tours fetched one by one, as its children
 * would), writing nothing: no run, no lock, no listed stamps, noted tombstones, staged tours, failures
 * or blobs; the only shared state it moves is the operator's rate-limit slot, so together with running
 * imports it stays within the operator's quota. One activity: the listed ids it needs to find absences
 * stay in its memory, and a retry lists again from the start.
 */
export async function dryRunListing(deps: OperatorImportDeps, a: DryRunInput): Promise<DryRunReport> {
  const { pool } = deps;
  const op = await requireOperator(pool, a.operatorId);
  const s = resolveSettings(op.settings, a.settings, a.mode, op.deltaMark);
  const adapter = await deps.adapterFor(a.operatorId);
  const report = emptyReport(a, s, await removals.countActiveTours(pool, a.operatorId));
  const listed = new Set<string>();
  let position: string | undefined;
  do {
    const page = await adapter.listPage(position, {
      mode: s.fullListing ? 'full' : 'delta',
      since: s.since,
      pageSize: s.pageSize,
    });
    report.pages++;
    report.listed += page.entries.length;
    await decidePage(deps, adapter, s, page.entries, report, listed);
    position = page.next;
    heartbeat({ pages: report.pages, listed: report.listed });
  } while (position !== undefined);
  if (s.fullListing) await countUnlisted(deps, a.operatorId, listed, report);
  else report.imageRetries = (await tours.readToursToRetryImages(pool, a.operatorId, 500)).length;
  const guard = operatorRemovalGuard(op.settings);
  report.removalsHeld = removalsNeedAPerson(report.removed.count, report.activeAtStart, guard);
  if (report.removalsHeld)
    report.removalsReason = heldRemovalsReason(
      a.operatorId,
      report.removed.count,
      report.activeAtStart,
      guard,
    );
  return report;
}

/** One page's entries, decided against what PostgreSQL holds, read only. */
async function decidePage(
  deps: OperatorImportDeps,
  adapter: OperatorAdapter,
  s: ResolvedSettings,
  entries: ListEntry[],
  report: DryRunReport,
  listed: Set<string>,
) {
  const latest = new Map(entries.map((e) => [e.externalId, e]));
  // Listed at all (an invalid entry too): not missing from the listing, as the import's stamps say.
  for (const id of latest.keys()) listed.add(id);
  const stored = await tours.findTourStates(deps.pool, report.operatorId, [...latest.keys()]);
  const imported: Tour[] = [];
  for (const e of latest.values()) {
    const state = stored.get(e.externalId);
    if (e.kind === 'removed') {
      if (state?.status === 'active') note(report.removed, `${e.externalId} (tombstone)`);
      continue;
    }
    if (e.kind === 'invalid') {
      note(report.invalid, `${e.externalId}: ${e.error}`);
      continue;
    }
    const tour = e.tour ?? (await detail(adapter, e.externalId, report));
    if (tour === undefined) continue;
    // Without content in the listing (C) the fetched tour decides, by its hash, as the child would.
    if (!needsImport(e, tourContentHash(tour), state, s.force)) report.unchanged++;
    else {
      note(state && state.status === 'active' ? report.changed : report.added, e.externalId);
      imported.push(tour);
    }
  }
  await countNewImages(deps, imported, report);
}

/** A tour the listing names without its content, fetched as its ImportTour child would; undefined: not importable. */
async function detail(adapter: OperatorAdapter, externalId: string, report: DryRunReport) {
  try {
    const found = await adapter.fetchTour(externalId);
    if (found.kind === 'found') return found.tour;
    note(
      report.failed,
      `${externalId}: ${found.kind === 'tombstone' ? 'a tombstone' : 'not found (404)'} though listed`,
    );
  } catch (err) {
    const type = (err as { type?: string }).type;
    if (type === PERMANENT_FAILURES.tourValidationFailed)
      note(report.invalid, `${externalId}: ${(err as Error).message}`);
    else if (typeof type === 'string')
      note(report.failed, `${externalId}: ${type}: ${(err as Error).message}`);
    else throw err;
  }
  return undefined;
}

async function countNewImages(deps: OperatorImportDeps, imported: Tour[], report: DryRunReport) {
  const urls = [...new Set(imported.flatMap((t) => t.images.map((i) => i.url)))];
  const known = await assets.knownSources(deps.pool, urls);
  for (const url of urls) if (!known.has(url)) note(report.newImages, url.split('?')[0]);
}

/** After a complete full listing: the active tours it did not list would be removed. */
async function countUnlisted(
  deps: OperatorImportDeps,
  operatorId: string,
  listed: Set<string>,
  report: DryRunReport,
) {
  for (const id of await tours.activeExternalIds(deps.pool, operatorId))
    if (!listed.has(id)) note(report.removed, `${id} (not listed)`);
}

function note(c: Counted, example: string) {
  c.count++;
  if (c.examples.length < EXAMPLES) c.examples.push(example.slice(0, 300));
}

function emptyReport(a: DryRunInput, s: ResolvedSettings, activeAtStart: number): DryRunReport {
  const none = (): Counted => ({ count: 0, examples: [] });
  return {
    operatorId: a.operatorId,
    mode: a.mode,
    fullListing: s.fullListing,
    pages: 0,
    listed: 0,
    added: none(),
    changed: none(),
    unchanged: 0,
    removed: none(),
    removalsHeld: false,
    invalid: none(),
    failed: none(),
    newImages: none(),
    imageRetries: 0,
    activeAtStart,
  };
}

function heartbeat(details: unknown) {
  try {
    Context.current().heartbeat(details);
  } catch {
    // outside an activity (a script or a test): nothing to heartbeat to
  }
}
