/**
 * What the scheduled Housekeeping workflow keeps and for how long. Pure policy: the config module builds
 * it from the environment (docs/operations.md: Housekeeping), the housekeeping activities apply it.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface HousekeepingPolicy {
  /** How often the schedule starts Housekeeping; 0: `schedules apply` makes no schedule (and deletes one). */
  everyMs: number;
  /** Rows one activity call deletes at most (and blobs it sweeps): the workflow loops until done. */
  batchSize: number;
  retention: {
    /** Finished import runs; the newest of each operator, and those holding removals, stay. */
    importRunsMs: number;
    tourFailuresMs: number;
    /** Must outlast the signature's timestamp tolerance (5 minutes): a replay within it is refused by id. */
    webhookDeliveriesMs: number;
    /**
     * Staged tours never persisted (their import failed or was cancelled), of operators not importing now;
     * and staged listings (dialect D) of runs finished this long ago.
     */
    stagedToursMs: number;
  };
  /** Unreferenced originals and variants: mark, then sweep after `graceMs` if still unreferenced. */
  blobGc: { enabled: boolean; graceMs: number };
  /** Temp files of interrupted downloads and uploads older than this are removed. */
  tempFileMaxAgeMs: number;
}

export const DEFAULT_HOUSEKEEPING: HousekeepingPolicy = {
  everyMs: HOUR,
  batchSize: 1_000,
  retention: {
    importRunsMs: 30 * DAY,
    tourFailuresMs: 30 * DAY,
    webhookDeliveriesMs: DAY,
    stagedToursMs: DAY,
  },
  blobGc: { enabled: true, graceMs: DAY },
  tempFileMaxAgeMs: HOUR,
};

/**
 * A persisted staged tour is kept only so that a persist re-run after its commit (within its ImportTour,
 * seconds later) finds what it stored: an hour after the persist it has no reader left.
 */
export const PERSISTED_STAGED_KEEP_MS = HOUR;

/** The tables Housekeeping prunes, in the order it prunes them. */
export const PRUNED_TABLES = ['webhook_deliveries', 'staged_tours', 'tour_failures', 'import_runs'] as const;
export type PrunedTable = (typeof PRUNED_TABLES)[number];
