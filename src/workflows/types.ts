/** Plain-JSON inputs and results of the workflows: what `temporal workflow start --input` accepts. */

export type ImportMode = 'delta' | 'full';

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

export interface ImportOperatorInput {
  operatorId: string;
  mode: ImportMode;
  settings?: ImportSettings;
  /** Carried across continue-as-new; never set by callers. */
  carried?: CarriedState;
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
  paused: boolean;
  pauseReason: string | null;
  status: ImportStatus;
}

export type ImportStatus = 'running' | 'paused' | 'completed' | 'cancelled' | 'skipped' | 'failed';

export interface CarriedState {
  importRunId: number;
  position?: string;
  /** Tours of the current page not yet started when the previous run continued as new. */
  pending: string[];
  listingDone: boolean;
  deltaMark?: string;
  progress: Progress;
  recent: boolean[];
  consecutiveFailures: number;
  /** Tours that failed for a reason a later run can fix (operator down…): the delta mark must not pass them. */
  transientFailures?: number;
  settings: ResolvedSettings;
  /** The half-open breaker's next cooldown (ms), doubled by each failed probe; unset: the configured one. */
  breakerCooldownMs?: number;
  /** Probe tours still to succeed before the breaker closes, after it resumed the import on its own. */
  probeLeft?: number;
  /** Smaller imports this one is making room for: their run id → when the request lapses (ms). */
  makingRoomFor?: Record<string, number>;
  /** The other operators' imports this one asked to make room for it, told again when it ends. */
  roomAskedOf?: string[];
}

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

export interface ImportOperatorResult {
  status: ImportStatus;
  message: string;
  progress: Progress;
}

export interface ImportTourInput {
  operatorId: string;
  externalId: string;
  /** Started by its operator's listing (which staged the tour where the listing carries it whole). */
  listed?: boolean;
  /**
   * The image activity persists the tour with its images (importTourImages) instead of a local
   * persistTour after them. Set by every starter since #17 (parent, webhook, CLI), so it gates the new
   * path the way a patch would without an extra event: no earlier history carries it.
   */
  persistWithImages?: boolean;
  force?: boolean;
  imageTaskQueue?: string;
  retry?: ImportSettings['retry'];
}

export type TourOutcome = 'imported' | 'unchanged' | 'removed' | 'stale';

export interface ImportTourResult {
  outcome: TourOutcome;
  images: number;
  failedImages: number;
  /** How many times it ran because changes were pushed while it was running. */
  passes: number;
}
