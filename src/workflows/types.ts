import type { DryRunReport } from '../activities/operator-import/index.js';
import type { PausedBy } from '../domain/notifications.js';
import type {
  ImportMode,
  ImportSettings,
  ImportStatus,
  Progress,
  ResolvedSettings,
  TourOutcome,
} from '../domain/operator-import.js';

/** Plain-JSON inputs and results of the workflows: what `temporal workflow start --input` accepts. */

// The import's own vocabulary, shared with the activities, lives in the domain; callers see it here too.
export type {
  ImportMode,
  ImportSettings,
  ImportStatus,
  Progress,
  ResolvedSettings,
} from '../domain/operator-import.js';

export interface ImportOperatorInput {
  operatorId: string;
  mode: ImportMode;
  settings?: ImportSettings;
  /** Lists and decides as an import would, writes nothing, and answers what it would do (`dryRun`). */
  dryRun?: boolean;
  /** Carried across continue-as-new; never set by callers. */
  carried?: CarriedState;
}

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
  /** Who paused the import and what PostgreSQL and the team were told of it (unset: no pause yet). */
  pause?: PauseState;
  /** Smaller imports this one is making room for: their run id → when the request lapses (ms). */
  makingRoomFor?: Record<string, number>;
  /** The other operators' imports this one asked to make room for it, told again when it ends. */
  roomAskedOf?: string[];
}

/**
 * The pause as a run hands it on: a breaker's pause that a continue-as-new carries over stays the
 * breaker's (with its cooldown and probe), recorded and told once.
 */
export interface PauseState {
  by: PausedBy;
  /** Whether PostgreSQL (and so the operators page, the schedules, the team) knows of the pause. */
  recorded: boolean;
  /** A failed probe pauses again without telling anyone again: "paused" was sent when it first tripped. */
  reopened: boolean;
  /** Whoever asked for the pause (the CLI, the API) tells the team of it and of the resume itself. */
  told?: boolean;
}

export interface ImportOperatorResult {
  status: ImportStatus;
  message: string;
  progress: Progress;
  /** A dry run's report: what the import would add, change, remove… */
  dryRun?: DryRunReport;
}

export interface ImportTourInput {
  operatorId: string;
  externalId: string;
  /** Started by its operator's listing (which staged the tour where the listing carries it whole). */
  listed?: boolean;
  force?: boolean;
  imageTaskQueue?: string;
  retry?: ImportSettings['retry'];
}

export interface ImportTourResult {
  outcome: TourOutcome;
  images: number;
  failedImages: number;
  /** How many times it ran because changes were pushed while it was running. */
  passes: number;
}
