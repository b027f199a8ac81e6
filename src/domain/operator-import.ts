import { TASK_QUEUES } from '../constants.js';
import { DEFAULT_HALF_OPEN, type HalfOpenSettings } from './notifications.js';
import { PERMANENT_FAILURES } from './errors.js';

/**
 * An operator's import as both sides see it: the ImportOperator workflow (src/workflows) and the
 * activities that list, decide and keep the books (src/activities). Its settings and their defaults,
 * its progress, the circuit breaker and the retry policy's shared constants. Pure: no I/O, safe in the
 * workflow sandbox.
 */

export type ImportMode = 'delta' | 'full';

export type ImportStatus = 'running' | 'paused' | 'completed' | 'cancelled' | 'skipped' | 'failed';

export type TourOutcome = 'imported' | 'unchanged' | 'removed' | 'stale';

export interface BreakerSettings {
  /** Pause after this many failed tours in a row. */
  consecutiveFailures: number;
  /** …or when more than this share of the last `overLast` tours failed. */
  failureRatio: number;
  overLast: number;
  /** Half-open breaker (defaults in src/domain/notifications.ts): resume alone after `cooldown` ms… */
  autoResume?: boolean;
  cooldown?: number;
  maxCooldown?: number;
  /** …and close once this many tours in a row succeed. */
  probeTours?: number;
}

/** What a caller may set for one import (`temporal workflow start --input`, the CLI, a Schedule). */
export interface ImportSettings {
  /** Children running at once (per-operator setting from config when omitted). */
  window?: number;
  pageSize?: number;
  breaker?: Partial<BreakerSettings>;
  /** Start a new run (continue-as-new) after this many children, keeping histories small. */
  toursPerRun?: number;
  imageTaskQueue?: string;
  /** Re-import tours whose content hash is unchanged. */
  force?: boolean;
  /** Retry policy knobs, so tests and the demo can fail fast. */
  retry?: { initialIntervalMs?: number; maximumAttempts?: number };
}

/** The settings an import runs with: the caller's over the operator's over the defaults. */
export interface ResolvedSettings {
  window: number;
  pageSize: number;
  breaker: BreakerSettings;
  toursPerRun: number;
  imageTaskQueue: string;
  force: boolean;
  retry: { initialIntervalMs: number; maximumAttempts: number };
  /** Whether this run lists the whole catalog (so absent tours can be marked removed). */
  fullListing: boolean;
  since?: string;
}

export interface Progress {
  listed: number;
  queued: number;
  running: number;
  done: number;
  unchanged: number;
  failed: number;
  removed: number;
  invalid: number;
  /** Removals held by the removal guard for a person to apply or discard. */
  heldRemovals?: number;
  /**
   * Children it runs at once now (answered to the progress query): its window, narrowed while it makes
   * room for a smaller import or while a probe runs.
   */
  window?: number;
  paused: boolean;
  pauseReason: string | null;
  status: ImportStatus;
}

// ---- Settings ---------------------------------------------------------------------------------------

export const DEFAULT_RETRY = { initialIntervalMs: 1_000, maximumAttempts: 6 };

const DEFAULT_BREAKER: BreakerSettings = { consecutiveFailures: 5, failureRatio: 0.5, overLast: 20 };

/**
 * Failure types that retrying cannot fix; activities throw them as non-retryable too. A tour that failed
 * with one is final for its import: the delta mark moves past it (any other failure holds the mark, so
 * the next import tries the tour again — OperatorInconsistent and a cancelled ImportTour among them).
 */
export const NON_RETRYABLE_TYPES: string[] = Object.values(PERMANENT_FAILURES);

/**
 * The settings of one import: what its caller gave, over the operator's stored settings, over the
 * defaults. A delta lists from the operator's mark; without a mark (or with delta off) it lists in full.
 */
export function resolveSettings(
  stored: Record<string, unknown>,
  given: ImportSettings | undefined,
  mode: ImportMode,
  deltaMark: string | null,
): ResolvedSettings {
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const delta = stored['delta'] !== false;
  const fullListing = mode === 'full' || !delta || !deltaMark;
  return {
    window: given?.window ?? num(stored['window']) ?? 20,
    pageSize: given?.pageSize ?? num(stored['pageSize']) ?? 100,
    breaker: { ...DEFAULT_BREAKER, ...(stored['circuitBreaker'] as object | undefined), ...given?.breaker },
    toursPerRun: given?.toursPerRun ?? 1_000,
    imageTaskQueue: given?.imageTaskQueue ?? TASK_QUEUES.imageProcessing,
    force: given?.force ?? false,
    retry: { ...DEFAULT_RETRY, ...given?.retry },
    fullListing,
    since: fullListing ? undefined : (deltaMark ?? undefined),
  };
}

// ---- Progress ---------------------------------------------------------------------------------------

/** Progress of an import that has not listed anything yet. */
export function emptyProgress(status: ImportStatus = 'running'): Progress {
  return {
    listed: 0,
    queued: 0,
    running: 0,
    done: 0,
    unchanged: 0,
    failed: 0,
    removed: 0,
    invalid: 0,
    paused: false,
    pauseReason: null,
    status,
  };
}

/** Adds what one listing page decided to the progress. */
export function countPage(
  progress: Progress,
  page: { listed: number; unchanged: number; removed: number; invalid: number; toImport: string[] },
): void {
  progress.listed += page.listed;
  progress.unchanged += page.unchanged;
  progress.removed += page.removed;
  progress.invalid += page.invalid;
  progress.failed += page.invalid; // an invalid listing entry is a failed tour too
  progress.queued += page.toImport.length;
}

/** Tours handled so far and tours listed so far: what a progress bar shows (CLI and operators page). */
export function progressRatio(p: Progress): { value: number; total: number } {
  const value = p.done + p.unchanged + p.failed + p.removed;
  return { value, total: Math.max(p.listed, value) };
}

export function summary(p: Progress): string {
  return `listed ${p.listed}, imported ${p.done}, unchanged ${p.unchanged}, removed ${p.removed}, failed ${p.failed}`;
}

// ---- Circuit breaker --------------------------------------------------------------------------------

/** Pure circuit-breaker state: outcomes of the last tours, newest last. */
export interface BreakerState {
  recent: boolean[];
  consecutiveFailures: number;
}

export function recordOutcome(state: BreakerState, ok: boolean, settings: BreakerSettings): BreakerState {
  const recent = [...state.recent, ok].slice(-settings.overLast);
  return { recent, consecutiveFailures: ok ? 0 : state.consecutiveFailures + 1 };
}

/** The reason to pause the operator, or undefined while it is healthy. */
export function breakerTrip(state: BreakerState, settings: BreakerSettings): string | undefined {
  if (state.consecutiveFailures >= settings.consecutiveFailures) {
    return `circuit breaker: ${state.consecutiveFailures} tours failed in a row`;
  }
  const failed = state.recent.filter((ok) => !ok).length;
  if (state.recent.length >= settings.overLast && failed / state.recent.length > settings.failureRatio) {
    return `circuit breaker: ${failed} of the last ${state.recent.length} tours failed`;
  }
  return undefined;
}

/** The half-open part of the operator's breaker settings, over the defaults. */
export function halfOpenSettings(b: BreakerSettings): HalfOpenSettings {
  return {
    autoResume: b.autoResume ?? DEFAULT_HALF_OPEN.autoResume,
    cooldownMs: b.cooldown ?? DEFAULT_HALF_OPEN.cooldownMs,
    maxCooldownMs: b.maxCooldown ?? DEFAULT_HALF_OPEN.maxCooldownMs,
    probeTours: b.probeTours ?? DEFAULT_HALF_OPEN.probeTours,
  };
}
