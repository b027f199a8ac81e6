import type { FetchResult, OperatorAdapter } from './types.js';

export type Found = FetchResult | { kind: 'invalid'; error: string };

/** A push names a recent change: a delta listing from before it is short. This bounds a runaway one. */
const MAX_PAGES_TO_FIND = 50;

/**
 * One tour of an operator that serves no per-product endpoint, from a delta listing since `since`
 * (the tour's last-updated mark, else the operator's delta mark; none: the whole listing). A tombstone
 * in the listing is evidence of removal; a tour the listing does not mention is `not-found`, which is
 * never a removal on its own.
 */
export async function findInListing(
  adapter: OperatorAdapter,
  externalId: string,
  since: string | undefined,
  maxPages = MAX_PAGES_TO_FIND,
): Promise<Found> {
  return (await findManyInListing(adapter, new Set([externalId]), since, maxPages)).get(externalId)!;
}

/** Several tours from one scan of the listing, as findInListing finds one. */
async function findManyInListing(
  adapter: OperatorAdapter,
  externalIds: ReadonlySet<string>,
  since: string | undefined,
  maxPages = MAX_PAGES_TO_FIND,
): Promise<Map<string, Found>> {
  const options = { mode: since === undefined ? ('full' as const) : ('delta' as const), since };
  const found = new Map<string, Found>([...externalIds].map((id) => [id, { kind: 'not-found' }]));
  let position: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const listed = await adapter.listPage(position, options);
    // The newest record wins: a feed may list a tour more than once while paging.
    for (const e of listed.entries) {
      if (!externalIds.has(e.externalId)) continue;
      if (e.kind === 'removed') found.set(e.externalId, { kind: 'tombstone' });
      else if (e.kind === 'active' && e.tour) found.set(e.externalId, { kind: 'found', tour: e.tour });
      else if (e.kind === 'invalid') found.set(e.externalId, { kind: 'invalid', error: e.error });
    }
    if (listed.next === undefined) break;
    position = listed.next;
  }
  return found;
}

/** How long a per-product endpoint that answered 404 for a tour its listing has is not asked again. */
export const DETAIL_MISSING_MEMO_MS = 10 * 60_000;
/** Operators remembered at most (a process serves hundreds): the oldest is forgotten first. */
const MAX_REMEMBERED = 1_000;

/**
 * Pushed tours looked up in their operator's listing, for one worker process. A burst of pushes shares
 * its scans: a lookup never joins a scan already under way (it began before the push and may predate
 * the change the push announces), it waits for the next one, and every lookup waiting when that one
 * begins is answered by it — a burst of a hundred pushes costs a few scans, not a hundred. It also
 * remembers, for DETAIL_MISSING_MEMO_MS, operators whose per-product endpoint answered 404 for a tour
 * their listing has (an operator that serves its feed alone while the operators file says nothing), so
 * later pushes go straight to the listing.
 */
export interface PushedTourLookups {
  find(
    adapter: OperatorAdapter,
    operatorId: string,
    externalId: string,
    since: string | undefined,
  ): Promise<Found>;
  /** Whether the operator's per-product endpoint answered 404 for a listed tour lately. */
  detailMissing(operatorId: string): boolean;
  /** Remembers that it did; true when it was not remembered already (say so once per burst). */
  noteDetailMissing(operatorId: string): boolean;
}

interface Scan {
  adapter: OperatorAdapter;
  since: string | undefined;
  externalIds: Set<string>;
  settle: { resolve(found: Map<string, Found>): void; reject(err: unknown): void };
  found: Promise<Map<string, Found>>;
}

interface Lane {
  scanning: boolean;
  /** The next scan, gathering the lookups that arrive while one is under way. */
  next?: Scan;
}

export function createPushedTourLookups(
  o: { memoMs?: number; now?: () => number; maxPages?: number } = {},
): PushedTourLookups {
  const memoMs = o.memoMs ?? DETAIL_MISSING_MEMO_MS;
  const now = o.now ?? Date.now;
  const lanes = new Map<string, Lane>();
  const detailMissingUntil = new Map<string, number>();

  function run(key: string, lane: Lane) {
    const scan = lane.next;
    if (!scan) {
      lanes.delete(key);
      return;
    }
    lane.next = undefined;
    lane.scanning = true;
    findManyInListing(scan.adapter, scan.externalIds, scan.since, o.maxPages)
      .then(scan.settle.resolve, scan.settle.reject)
      .finally(() => {
        lane.scanning = false;
        run(key, lane);
      });
  }

  function detailMissing(operatorId: string): boolean {
    const until = detailMissingUntil.get(operatorId);
    if (until === undefined) return false;
    if (until > now()) return true;
    detailMissingUntil.delete(operatorId);
    return false;
  }

  return {
    find(adapter, operatorId, externalId, since) {
      const key = JSON.stringify([operatorId, since ?? null]);
      let lane = lanes.get(key);
      if (!lane) lanes.set(key, (lane = { scanning: false }));
      const scan = (lane.next ??= newScan(adapter, since));
      scan.externalIds.add(externalId);
      if (!lane.scanning) run(key, lane);
      return scan.found.then((found) => found.get(externalId) ?? { kind: 'not-found' });
    },
    detailMissing,
    noteDetailMissing(operatorId) {
      const known = detailMissing(operatorId);
      // Re-inserted, so the map's order is the order of expiry and the first key the oldest.
      detailMissingUntil.delete(operatorId);
      detailMissingUntil.set(operatorId, now() + memoMs);
      if (detailMissingUntil.size > MAX_REMEMBERED)
        detailMissingUntil.delete(detailMissingUntil.keys().next().value!);
      return !known;
    },
  };
}

function newScan(adapter: OperatorAdapter, since: string | undefined): Scan {
  let settle!: Scan['settle'];
  const found = new Promise<Map<string, Found>>((resolve, reject) => (settle = { resolve, reject }));
  return { adapter, since, externalIds: new Set(), settle, found };
}
