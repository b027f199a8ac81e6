import type { FetchResult, OperatorAdapter } from './types.js';

export type Found = FetchResult | { kind: 'invalid'; error: string };

/** A push names a recent change: a delta listing from before it is short. This bounds a runaway one. */
export const MAX_PAGES_TO_FIND = 50;

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
  const options = { mode: since === undefined ? ('full' as const) : ('delta' as const), since };
  let position: string | undefined;
  let found: Found = { kind: 'not-found' };
  for (let page = 0; page < maxPages; page++) {
    const listed = await adapter.listPage(position, options);
    // The newest record wins: a feed may list a tour more than once while paging.
    for (const e of listed.entries) {
      if (e.externalId !== externalId) continue;
      if (e.kind === 'removed') found = { kind: 'tombstone' };
      else if (e.kind === 'active' && e.tour) found = { kind: 'found', tour: e.tour };
      else if (e.kind === 'invalid') found = { kind: 'invalid', error: e.error };
    }
    if (listed.next === undefined) return found;
    position = listed.next;
  }
  return found;
}
