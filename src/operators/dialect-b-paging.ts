import { asRecord, text } from './mapping.js';

/**
 * Offset drift in dialect B. Offsets index a list that changes while we page through it:
 * an insertion before our offset shifts rows right (the next page repeats rows we already saw),
 * a removal shifts them left (the next page would skip a row we never saw).
 *
 * Strategy: every page after the first is requested OVERLAP rows *before* the offset we reached,
 * and the opaque position carries the last RECENT product codes we emitted. In the returned rows,
 * everything up to and including the last row whose code we recently emitted is already covered
 * (however far insertions pushed it right); only rows after it are new. Left shifts of up to
 * OVERLAP rows are absorbed by the overlap. If none of the recent codes shows up (a larger left
 * shift, or those products were removed), the adapter steps further back and looks again, and
 * only then gives up and emits every row not in the recent set — a rare double count (harmless:
 * writes are idempotent upserts) is preferred to losing a product, which a full reconciliation
 * would wrongly mark removed. The position stays a few hundred bytes whatever the catalog size.
 *
 * Products inserted mid-scan *behind* the anchor are not seen by this run; their dateUpdated is
 * newer than the scan's start, so the next delta run picks them up.
 *
 * Delta mark. The scan is ordered by product code, not by dateUpdated, and takes minutes: a product
 * on page 1 can change after we read page 1 and before a product on page 90 changes. So the mark
 * is never a dateUpdated seen in the listing (the largest would skip the page-1 change forever);
 * it is the operator's time when the scan started — the first page's `Date` header, else our own
 * time when we requested it — carried in the position (`m`) to the last page. Every change after
 * that instant is listed by the next delta run; the adapter queries updatedSince a look-back
 * earlier than the mark for clock skew and the header's 1-second resolution.
 */
export const B_OVERLAP = 5;
const B_RECENT = 10;
export const B_MAX_LIMIT = 100;
export const B_MAX_BACKTRACK = 2;

export interface BPosition {
  /** Offset (in the server's numbering at the time) just after the last row received. */
  o: number;
  /** Last product codes emitted, oldest first. */
  r: string[];
  /** The operator's time when this scan started (ISO): the delta mark once the scan completes. */
  m?: string;
}

export function encodeBPosition(p: BPosition): string {
  return JSON.stringify(p);
}

/** A fresh scan (no position) has no `m` yet: its first page's response sets it. */
export function decodeBPosition(s: string | undefined): BPosition {
  if (s === undefined) return { o: 0, r: [] };
  const v = asRecord(JSON.parse(s));
  if (!v || typeof v.o !== 'number' || !Array.isArray(v.r))
    throw new Error(`invalid dialect B listing position: ${s.slice(0, 100)}`);
  return { o: v.o, r: v.r.map(String), m: typeof v.m === 'string' ? v.m : undefined };
}

export function rowCode(row: unknown): string | undefined {
  return text(asRecord(row)?.productCode);
}

export interface BPagePlan {
  /** Rows not yet emitted in this run, in server order. */
  fresh: unknown[];
  /** False when no recently emitted code was found in a window that should contain one. */
  anchored: boolean;
  /** Position after this page (carrying `m` on); undefined when the listing is complete (short page). */
  next?: BPosition;
}

/** Pure: decides which of `rows` (requested at `start` with `limit`) are new, and where to continue. */
export function planBPage(pos: BPosition, start: number, limit: number, rows: unknown[]): BPagePlan {
  const recent = new Set(pos.r);
  const codes = rows.map(rowCode);
  let anchor = -1;
  codes.forEach((c, i) => {
    if (c !== undefined && recent.has(c)) anchor = i;
  });
  const expectAnchor = recent.size > 0 && start < pos.o && rows.length > 0;
  const anchored = !expectAnchor || anchor >= 0;
  const fresh = rows.filter((_, i) => i > anchor && !(codes[i] !== undefined && recent.has(codes[i]!)));
  const emitted = fresh.map(rowCode).filter((c): c is string => c !== undefined);
  const r = [...pos.r.filter((c) => !emitted.includes(c)), ...emitted].slice(-B_RECENT);
  const complete = rows.length < limit;
  return { fresh, anchored, next: complete ? undefined : { o: start + rows.length, r, m: pos.m } };
}
