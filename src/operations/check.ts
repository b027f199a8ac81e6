import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from '../db/pool.js';
import { TourValidationError } from '../domain/errors.js';
import type { Tour } from '../domain/tour.js';
import { OperatorConfigError, OperatorError, OperatorThrottledError } from '../operators/errors.js';
import { DEFAULT_TIMEOUT_MS, type RateLimiter } from '../operators/http.js';
import { createAdapter, type OperatorConfig } from '../operators/registry.js';
import { sharedDbRateLimiter } from '../operators/resolver.js';
import type { ListEntry, OperatorAdapter } from '../operators/types.js';
import { pickImages, sampleImages, type ImageLimits } from './check-images.js';
import { CUT, deadline, type Deadline } from './deadline.js';
import {
  createResponseLog,
  emptySteps,
  failed,
  isAuthRefusal,
  ok,
  rateLimitStep,
  skipped,
  verdict,
  type CheckReport,
  type CheckSteps,
  type PageTiming,
  type ResponseLog,
} from './check-report.js';

export type { CheckClass, CheckReport } from './check-report.js';
export type { ImageLimits } from './check-images.js';

export interface CheckDeps {
  /** The operators file as loaded: the operator need not be synced into PostgreSQL. */
  operators: OperatorConfig[];
  /** Looks a secret up by environment variable name (config().secret). */
  secret: (envName: string) => string | undefined;
  /** When given, the check's requests take the operator's shared rate-limit slots, as its imports do. */
  pool?: Pool;
  images: ImageLimits;
}

export interface CheckOptions {
  /** Every page of the listing (and every detail, for dialects whose listing has ids only); else the first. */
  allPages?: boolean;
  /** Image URLs fetched and decoded; 0: none. */
  sampleImages?: number;
  /** Stop after this long and report what was seen (the API's bound); unset: every step runs to its end. */
  deadlineMs?: number;
}

export const DEFAULT_SAMPLE_IMAGES = 5;
/** Tours of an ids-only listing (C) fetched and mapped one by one unless `allPages`. */
const DETAIL_SAMPLE = 20;
/** Invalid tours reported by name; the count covers the rest. */
const INVALID_SHOWN = 5;

/**
 * Whether an operator can be imported, asked of the operator itself: its credentials, its listing (the
 * first page, or all), the mapping of what it lists, a sample of its images through the import's own
 * download and decode checks, the rate-limit headers it sends, and, where the dialect has a change
 * mark, a delta from now. Writes nothing to the catalog (no tours, staged rows, failures or blobs) and
 * ignores the operator's pause: it is the question to ask before an import, or while one is held.
 */
export async function checkOperator(
  deps: CheckDeps,
  operatorId: string,
  options: CheckOptions = {},
): Promise<CheckReport> {
  const op = deps.operators.find((o) => o.id === operatorId);
  if (!op) throw new OperatorConfigError(`operator "${operatorId}" is not in the operators file`);
  const started = Date.now();
  const c: Run = {
    op,
    options,
    clock: deadline(options.deadlineMs),
    log: createResponseLog(),
    steps: emptySteps(op.rateLimit.requestsPerSecond),
    tours: [],
    cut: false,
  };
  const adapter = adapterFor(deps, c);
  if (adapter) {
    const entries = await checkListing(adapter, c);
    if (c.steps.auth.status === 'ok') {
      await checkMapping(adapter, c, entries);
      await checkDelta(adapter, c);
      await checkImages(deps, c);
    } else skipRest(c, 'mapping', nothingListed(c));
  }
  c.steps.rateLimit = rateLimitStep(c.log, op.rateLimit.requestsPerSecond);
  const cutShort = c.cut;
  return {
    operatorId: op.id,
    dialect: op.dialect,
    baseUrl: op.baseUrl,
    checkedAt: new Date(started).toISOString(),
    allPages: options.allPages ?? false,
    ...verdict(c.steps, cutShort),
    cutShort,
    durationMs: Date.now() - started,
    steps: c.steps,
  };
}

function nothingListed(c: Run): string {
  if (c.steps.auth.status === 'failed') return 'the credentials were refused';
  return c.steps.listing.status === 'failed' ? 'the listing failed' : "the check's deadline passed";
}

/** One check's state as its steps fill it in. */
interface Run {
  op: OperatorConfig;
  options: CheckOptions;
  clock: Deadline;
  log: ResponseLog;
  steps: CheckSteps;
  /** The valid tours mapped, for the image sample. */
  tours: Tour[];
  /** Whether the deadline stopped a step. */
  cut: boolean;
}

/** The operator's adapter, as imports build it; undefined when its credential is missing (auth failed). */
function adapterFor(deps: CheckDeps, c: Run): OperatorAdapter | undefined {
  const perSecond = c.op.rateLimit.requestsPerSecond;
  const paced = [
    pacing(perSecond),
    ...(deps.pool ? [sharedDbRateLimiter(deps.pool, c.op.id, perSecond)] : []),
  ];
  // No single request may outlive the check's deadline.
  const timeoutMs = Math.min(c.op.timeoutMs ?? DEFAULT_TIMEOUT_MS, c.options.deadlineMs ?? Infinity);
  try {
    return createAdapter(
      { ...c.op, timeoutMs },
      {
        secret: deps.secret,
        rateLimiter: { acquire: async () => void (await Promise.all(paced.map((l) => l.acquire()))) },
        http: { onResponse: c.log.record },
      },
    );
  } catch (err) {
    if (!(err instanceof OperatorConfigError)) throw err;
    c.steps.auth = failed(err.message);
    skipRest(c, 'listing', 'no credentials to send');
    return undefined;
  }
}

async function checkListing(adapter: OperatorAdapter, c: Run): Promise<ListEntry[]> {
  const { listing } = c.steps;
  const entries: ListEntry[] = [];
  let position: string | undefined;
  do {
    const page = await timed(c, () => adapter.listPage(position, { mode: 'full' }));
    if (page === CUT) {
      const within = `within the check's deadline (${c.options.deadlineMs} ms)`;
      if (!listing.pages.length) skipRest(c, 'auth', `no answer from the listing ${within}`);
      else
        Object.assign(listing, skipped(`${pagesText(listing.pages)} listed ${within}`), {
          entries: entries.length,
        });
      return entries;
    }
    if (page instanceof Error) {
      failListing(c, page);
      return entries;
    }
    c.steps.auth = ok('the listing accepted the credentials');
    listing.pages.push({ page: listing.pages.length + 1, entries: page.value.entries.length, ms: page.ms });
    entries.push(...page.value.entries);
    position = page.value.next;
  } while (c.options.allPages && position !== undefined);
  listing.entries = entries.length;
  listing.complete = position === undefined;
  listing.status = 'ok';
  listing.message = `${pagesText(listing.pages)}, ${entriesText(entries.length)}${listing.complete ? ' (complete)' : '; --all lists every page'}`;
  return entries;
}

function failListing(c: Run, err: Error) {
  const { listing } = c.steps;
  if (!listing.pages.length && isAuthRefusal(err)) {
    c.steps.auth = failed(err.message);
    skipRest(c, 'listing', 'the credentials were refused');
    return;
  }
  if (!listing.pages.length) c.steps.auth = skipped('not confirmed: the listing failed first');
  listing.status = 'failed';
  listing.message = err.message;
}

async function checkMapping(adapter: OperatorAdapter, c: Run, entries: ListEntry[]) {
  const m = c.steps.mapping;
  // A tour listed twice is decided by its later entry, as an import does.
  const latest = [...new Map(entries.map((e) => [e.externalId, e])).values()];
  const details: string[] = [];
  for (const e of latest) {
    if (e.kind === 'removed') m.removed++;
    else if (e.kind === 'invalid') invalid(c, e.externalId, e.field, e.error);
    else if (e.tour) valid(c, e.tour);
    else details.push(e.externalId);
  }
  const fetchable = c.options.allPages ? details : details.slice(0, DETAIL_SAMPLE);
  m.unmapped = details.length;
  for (const externalId of fetchable) {
    const found = await timed(c, () => adapter.fetchTour(externalId));
    if (found === CUT) break;
    if (found instanceof TourValidationError) invalid(c, externalId, found.field, found.message);
    else if (found instanceof Error) {
      c.steps.listing = { ...c.steps.listing, ...failed(`detail of tour "${externalId}": ${found.message}`) };
      break;
    } else if (found.value.kind === 'found') valid(c, found.value.tour);
    else if (found.value.kind === 'tombstone') m.removed++;
    else invalid(c, externalId, null, 'listed as active, but its detail answers not found');
    m.unmapped--;
  }
  const mapped = m.valid + m.invalid;
  const more = m.unmapped ? `; ${m.unmapped} listed tours not fetched (--all fetches every one)` : '';
  if (mapped === 0 && m.removed === 0)
    Object.assign(
      m,
      skipped(entries.length ? 'no tour could be fetched' : 'the listing is empty: nothing to map'),
    );
  else if (m.invalid)
    Object.assign(
      m,
      failed(`${m.invalid} of ${mapped} tours invalid, first: ${invalidText(m.invalidTours[0])}${more}`),
    );
  else Object.assign(m, ok(`${m.valid} tours valid, ${m.removed} removed${more}`));
}

function valid(c: Run, tour: Tour) {
  c.steps.mapping.valid++;
  c.tours.push(tour);
}

function invalid(c: Run, externalId: string, field: string | null | undefined, reason: string) {
  const m = c.steps.mapping;
  m.invalid++;
  if (m.invalidTours.length < INVALID_SHOWN)
    m.invalidTours.push({ externalId, field: field || null, reason });
}

const invalidText = (t: { externalId: string; field: string | null; reason: string } | undefined) =>
  t ? `${t.externalId}${t.field ? ` (${t.field})` : ''}: ${t.reason}` : '-';

/**
 * A delta from the operator's now (its last `Date` header) must answer, and list no more than the full
 * listing did over as many pages: an operator that ignores the mark would have every delta import list
 * the whole catalog.
 */
async function checkDelta(adapter: OperatorAdapter, c: Run) {
  const d = c.steps.delta;
  if (!adapter.supportsDelta)
    return Object.assign(d, skipped(`dialect ${adapter.dialect} has no delta listing`));
  if (!c.op.delta)
    return Object.assign(d, skipped('delta imports are off for this operator ("delta: false")'));
  const { listing } = c.steps;
  if (listing.status !== 'ok')
    return Object.assign(d, skipped('the full listing did not complete its pages'));
  const since = c.log.serverDate() ?? new Date().toISOString();
  d.since = since;
  let entries = 0;
  let position: string | undefined;
  do {
    const page = await timed(c, () => adapter.listPage(position, { mode: 'delta', since }));
    if (page === CUT) return Object.assign(d, skipped("the check's deadline passed"));
    if (page instanceof Error) return Object.assign(d, failed(page.message));
    d.pages.push({ page: d.pages.length + 1, entries: page.value.entries.length, ms: page.ms });
    entries += page.value.entries.length;
    position = page.value.next;
  } while (position !== undefined && d.pages.length < listing.pages.length);
  d.entries = entries;
  const versus = `the full listing had ${listing.entries} over ${pagesText(listing.pages)}`;
  const listed = `a delta since ${since} listed ${entriesText(entries)}`;
  if (entries > listing.entries) return Object.assign(d, failed(`${listed}, more than ${versus}`));
  const same =
    entries > 0 && entries === listing.entries ? ' (as many: does the operator ignore the mark?)' : '';
  Object.assign(d, ok(`${listed}; ${versus}${same}`));
}

async function checkImages(deps: CheckDeps, c: Run) {
  const img = c.steps.images;
  const n = c.options.sampleImages ?? DEFAULT_SAMPLE_IMAGES;
  if (n === 0) return Object.assign(img, skipped('no sample asked for (--images 0)'));
  const picks = pickImages(c.tours, n);
  if (!picks.length)
    return Object.assign(img, skipped(c.tours.length ? 'the valid tours have no images' : 'no valid tours'));
  img.sampled = await sampleImages(picks, deps.images, c.clock.signal());
  const bad = img.sampled.filter((s) => !s.ok);
  c.cut ||= img.sampled.length < picks.length;
  const cut = img.sampled.length < picks.length ? `; the deadline passed after ${img.sampled.length}` : '';
  if (bad.length)
    Object.assign(
      img,
      failed(
        `${bad.length} of ${img.sampled.length} sampled images refused, first: ${bad[0].refusedBy}: ${bad[0].message}${cut}`,
      ),
    );
  else if (img.sampled.length)
    Object.assign(img, ok(`${img.sampled.length} sampled images download and decode${cut}`));
  else Object.assign(img, skipped("the check's deadline passed before any image"));
}

/** Every step from `from` on (in report order) skipped for the same reason. */
function skipRest(c: Run, from: keyof CheckSteps, reason: string) {
  const order: (keyof CheckSteps)[] = ['auth', 'listing', 'mapping', 'delta', 'images'];
  for (const name of order.slice(order.indexOf(from))) Object.assign(c.steps[name], skipped(reason));
}

const pagesText = (pages: PageTiming[]) => `${pages.length} page${pages.length === 1 ? '' : 's'}`;
const entriesText = (n: number) => `${n} ${n === 1 ? 'entry' : 'entries'}`;

/** A throttled call is asked again once, after the operator's Retry-After (this long at most), as an import would. */
const MAX_THROTTLE_WAIT_MS = 10_000;

/**
 * One operator call, timed: its value, or the operator's error (the kinds an import records as the
 * operator's), or CUT when the deadline passed first. Anything else (a bug, PostgreSQL gone) is thrown.
 */
async function timed<T>(
  c: Run,
  call: () => Promise<T>,
): Promise<{ value: T; ms: number } | Error | typeof CUT> {
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    try {
      const value = c.clock.passed() ? CUT : await c.clock.race(call());
      if (value === CUT) {
        c.cut = true;
        return CUT;
      }
      return { value, ms: Math.round(performance.now() - started) };
    } catch (err) {
      if (err instanceof OperatorThrottledError && attempt === 1)
        await c.clock.race(sleep(Math.min(err.retryAfterMs ?? 1000, MAX_THROTTLE_WAIT_MS)));
      else if (err instanceof OperatorError || err instanceof TourValidationError) return err;
      else throw err;
    }
  }
}

/** This process's own pacing at the operator's configured rate, whether or not it is synced. */
function pacing(perSecond: number): RateLimiter {
  let next = 0;
  return {
    async acquire() {
      const now = Date.now();
      const at = Math.max(now, next);
      next = at + 1000 / perSecond;
      if (at > now) await sleep(at - now);
    },
  };
}
