import type { Tour } from '../domain/tour.js';

export type Dialect = 'A' | 'B' | 'C' | 'D';

/** What a listing page says about one tour. */
export type ListEntry =
  | {
      kind: 'active';
      externalId: string;
      /** Operator's last-updated mark, if the dialect has one. */
      sourceUpdatedAt: string | null;
      /** Present when the listing already carries the whole tour (dialects A and B). */
      tour?: Tour;
    }
  | { kind: 'removed'; externalId: string; sourceUpdatedAt: string | null }
  /** The listing had this entry but it failed validation: recorded, never a crash. */
  | {
      kind: 'invalid';
      externalId: string;
      error: string;
      /** Dotted path of the first field the schema rejected (`price.amount`), when it named one. */
      field?: string;
    };

export interface ListPage {
  entries: ListEntry[];
  /** Opaque, JSON-serialisable position to continue from; undefined when the listing is complete. */
  next?: string;
  /**
   * The delta mark to store once every tour of this listing has been handled
   * (dialect A: cursor; B: the operator's time when the scan started). Undefined for C.
   */
  deltaMark?: string;
}

export interface ListOptions {
  mode: 'delta' | 'full';
  /** Delta mark stored by the previous completed import (delta mode only). */
  since?: string;
  pageSize?: number;
}

/**
 * One tour as the operator answers for it. `tombstone` is evidence of removal (dialect A's INACTIVE
 * record); `not-found` (a 404) is not: for a tour a listing just called active it is an inconsistency
 * at the operator, and a push is never a removal on its own.
 */
export type FetchResult = { kind: 'found'; tour: Tour } | { kind: 'tombstone' } | { kind: 'not-found' };

/** One per dialect. Adapters do HTTP through OperatorHttp and map raw payloads with pure functions. */
export interface OperatorAdapter {
  readonly dialect: Dialect;
  /** Whether the dialect can list only what changed since a mark. */
  readonly supportsDelta: boolean;
  /** Whether removed tours appear in a delta listing (A: tombstones) or only as absences from a full one. */
  readonly reportsRemovals: boolean;
  /** Whether listing entries carry whole tours (A, B, D): those are imported without a per-tour call. */
  readonly listingCarriesTours: boolean;
  /**
   * Whether the operator serves a per-product endpoint (`fetchTour`). A and B need not: a pushed tour
   * is then looked up in a delta listing (src/operators/find-in-listing.ts). C and D always have one.
   */
  readonly detailEndpoint: boolean;
  /**
   * Whether the dialect's specification promises that endpoint (D: OCTO's GET /products/{id}): its
   * not-found is then the operator's answer, and a pushed tour is never looked for in the listing too.
   */
  readonly detailEndpointPromised?: boolean;
  listPage(position: string | undefined, options: ListOptions): Promise<ListPage>;
  /**
   * Dialects whose listing is one answer with every tour (D): its entries as the body is parsed, so no
   * process holds the whole catalog; it ends only once the answer was complete, and throws otherwise.
   * The import stages them in PostgreSQL and pages through its copy.
   */
  streamListing?(options?: { signal?: AbortSignal }): AsyncIterable<ListEntry>;
  fetchTour(externalId: string): Promise<FetchResult>;
}
