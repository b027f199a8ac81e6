import type { IncomingHttpHeaders } from 'node:http';
import {
  AUTH_CODE,
  OperatorApplicationError,
  OperatorConfigError,
  OperatorCredentialsError,
  OperatorHttpError,
  OperatorThrottledError,
} from '../operators/errors.js';
import { httpDate } from '../operators/http.js';

/**
 * What `tour-import check` and `GET /operators/:id/check` answer: plain JSON, the same from both doors.
 * Each step says ok, failed or skipped (and why, in one line); the verdict is derived from the steps.
 */

/** Why an operator cannot be imported. Each has its own exit code (src/cli/errors.ts). */
export type CheckClass = 'auth' | 'listing' | 'mapping' | 'images';

/**
 * Which class decides when several steps fail: an earlier step's failure makes the later ones
 * meaningless (no listing without credentials, nothing to map without a listing).
 */
const CHECK_CLASSES: readonly CheckClass[] = ['auth', 'listing', 'mapping', 'images'];

type StepStatus = 'ok' | 'failed' | 'skipped';

export interface Step {
  status: StepStatus;
  /** One line: what was seen, why it failed, or why it did not run. */
  message: string;
}

export interface PageTiming {
  page: number;
  entries: number;
  ms: number;
}

interface InvalidTour {
  externalId: string;
  /** Dotted path of the first field the schema rejected (`price.amount`); null when it named none. */
  field: string | null;
  reason: string;
}

export interface ImageSample {
  /** The image URL with its query left out (a CDN signs there). */
  url: string;
  externalId: string;
  ok: boolean;
  contentType: string | null;
  bytes: number | null;
  width: number | null;
  height: number | null;
  format: string | null;
  /** The failure type that refused it, as an import records it (UnsafeUrl, ImageTooLarge, …). */
  refusedBy: string | null;
  message: string | null;
  ms: number;
}

export interface CheckSteps {
  auth: Step;
  listing: Step & { pages: PageTiming[]; entries: number; complete: boolean };
  mapping: Step & {
    valid: number;
    invalid: number;
    /** Tombstones in the listing (A), or listed tours whose detail answers one. */
    removed: number;
    /** Listed tours whose content needs a detail fetch (C) that the check did not make (see --all). */
    unmapped: number;
    invalidTours: InvalidTour[];
  };
  images: Step & { sampled: ImageSample[] };
  rateLimit: Step & { configuredPerSecond: number; headers: Record<string, string>; throttled: boolean };
  delta: Step & { since: string | null; entries: number | null; pages: PageTiming[] };
}

export interface CheckReport {
  operatorId: string;
  dialect: string;
  baseUrl: string;
  checkedAt: string;
  allPages: boolean;
  /** True only when every step that ran passed and none was cut short. */
  importable: boolean;
  /** The class that decides the exit code, by CHECK_CLASSES' order; null when none failed. */
  failed: CheckClass | null;
  /** The deadline passed before every step had run: the report has what was seen until then. */
  cutShort: boolean;
  durationMs: number;
  steps: CheckSteps;
}

export const ok = (message: string): Step => ({ status: 'ok', message });
export const failed = (message: string): Step => ({ status: 'failed', message });
export const skipped = (message: string): Step => ({ status: 'skipped', message });

/** Every step before it has run: the report's shape is the same however far a check got. */
export function emptySteps(configuredPerSecond: number): CheckSteps {
  const notRun = () => skipped('not run');
  return {
    auth: notRun(),
    listing: { ...notRun(), pages: [], entries: 0, complete: false },
    mapping: { ...notRun(), valid: 0, invalid: 0, removed: 0, unmapped: 0, invalidTours: [] },
    images: { ...notRun(), sampled: [] },
    rateLimit: { ...notRun(), configuredPerSecond, headers: {}, throttled: false },
    delta: { ...notRun(), since: null, entries: null, pages: [] },
  };
}

/** The step each class is judged on; the delta is a listing too, and rate limits only inform. */
const STEPS_OF: Record<CheckClass, (keyof CheckSteps)[]> = {
  auth: ['auth'],
  listing: ['listing', 'delta'],
  mapping: ['mapping'],
  images: ['images'],
};

export function verdict(steps: CheckSteps, cutShort: boolean): Pick<CheckReport, 'importable' | 'failed'> {
  const failed =
    CHECK_CLASSES.find((c) => STEPS_OF[c].some((name) => steps[name].status === 'failed')) ?? null;
  return { importable: failed === null && !cutShort, failed };
}

/** Whether an error says the operator refused the credentials (or that there are none to send). */
export function isAuthRefusal(err: unknown): boolean {
  if (err instanceof OperatorConfigError || err instanceof OperatorCredentialsError) return true;
  if (err instanceof OperatorThrottledError) return false;
  if (err instanceof OperatorHttpError) return err.status === 401 || err.status === 403;
  if (err instanceof OperatorApplicationError) return AUTH_CODE.test(err.code);
  return false;
}

const RATE_HEADER = /^(x-)?rate-?limit|^retry-after$/i;

/** What the operator's responses said about its limits, and its clock (the last `Date` header). */
export function createResponseLog() {
  const headers: Record<string, string> = {};
  let throttled = false;
  let serverDate: string | undefined;
  return {
    record(res: { status: number; headers: IncomingHttpHeaders }) {
      for (const [name, value] of Object.entries(res.headers))
        if (value !== undefined && RATE_HEADER.test(name)) headers[name] = String(value);
      const remaining = res.headers['x-ratelimit-remaining'] ?? res.headers['ratelimit-remaining'];
      if (res.status === 429 || (res.status === 403 && String(remaining) === '0')) throttled = true;
      serverDate = httpDate(res.headers.date) ?? serverDate;
    },
    headers: () => ({ ...headers }),
    throttled: () => throttled,
    /** The operator's time at its last answer: marks are in its clock, not ours. */
    serverDate: () => serverDate,
  };
}

export type ResponseLog = ReturnType<typeof createResponseLog>;

/** Informs only: a throttled request already failed the step it belonged to. */
export function rateLimitStep(log: ResponseLog, configuredPerSecond: number): CheckSteps['rateLimit'] {
  const headers = log.headers();
  const throttled = log.throttled();
  const configured = `configured: ${configuredPerSecond} requests/s`;
  const note = throttled ? '; the operator throttled the check' : '';
  const seen = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  const step = seen.length
    ? ok(`${seen.join(', ')} (${configured})${note}`)
    : skipped(`the operator sent no rate-limit headers (${configured})${note}`);
  return { ...step, configuredPerSecond, headers, throttled };
}
