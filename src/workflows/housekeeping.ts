import { continueAsNew, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { HousekeepingActivities } from '../activities/housekeeping.js';
import { PRUNED_TABLES, type PrunedTable } from '../domain/housekeeping.js';

/** Row retention and blob garbage collection, started by its own schedule (docs/operations.md: Housekeeping). */

const PHASES = [...PRUNED_TABLES, 'mark-blobs', 'sweep-blobs', 'temp-files'] as const;
type Phase = (typeof PHASES)[number];

export interface HousekeepingResult {
  pruned: Record<PrunedTable, number>;
  blobs: { listed: number; marked: number; swept: number; deleted: number; kept: number };
  tempFilesRemoved: number;
}

export interface HousekeepingInput {
  /** Activity calls per run before it continues as new (default 500; tests set it low). */
  callsPerRun?: number;
  /** Carried across continue-as-new; never set by callers. */
  carried?: { phase: Phase; startAfter?: string; result: HousekeepingResult };
}

// Each call is one bounded batch that heartbeats; a batch that fails is simply tried again.
const hk = proxyActivities<HousekeepingActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** A long backlog (the first run on a big database) continues as new well before the history is large. */
const CALLS_PER_RUN = 500;

export async function Housekeeping(input: HousekeepingInput = {}): Promise<HousekeepingResult> {
  const state = input.carried ?? { phase: PHASES[0], result: emptyResult() };
  const { result } = state;
  for (let calls = 0; ; calls++) {
    if (calls >= (input.callsPerRun ?? CALLS_PER_RUN) || workflowInfo().continueAsNewSuggested)
      return continueAsNew<typeof Housekeeping>({ ...input, carried: state });
    const done = await step(state.phase, state, result);
    if (!done) continue;
    const next = PHASES[PHASES.indexOf(state.phase) + 1];
    if (!next) break;
    state.phase = next;
    state.startAfter = undefined;
  }
  log.info('housekeeping done', { ...result });
  return result;
}

/** One batch of the phase; true when the phase has nothing left to do. */
async function step(
  phase: Phase,
  state: { startAfter?: string },
  result: HousekeepingResult,
): Promise<boolean> {
  switch (phase) {
    case 'mark-blobs': {
      const r = await hk.markBlobs({ startAfter: state.startAfter });
      result.blobs.listed += r.listed;
      result.blobs.marked += r.marked;
      state.startAfter = r.next;
      return r.next === undefined;
    }
    case 'sweep-blobs': {
      const r = await hk.sweepBlobs();
      result.blobs.swept += r.swept;
      result.blobs.deleted += r.blobsDeleted;
      result.blobs.kept += r.kept;
      return r.done;
    }
    case 'temp-files':
      result.tempFilesRemoved += (await hk.sweepTempFiles()).removed;
      return true;
    default: {
      const r = await hk.pruneRows({ table: phase });
      result.pruned[phase] += r.deleted;
      return r.done;
    }
  }
}

function emptyResult(): HousekeepingResult {
  return {
    pruned: Object.fromEntries(PRUNED_TABLES.map((t) => [t, 0])) as Record<PrunedTable, number>,
    blobs: { listed: 0, marked: 0, swept: 0, deleted: 0, kept: 0 },
    tempFilesRemoved: 0,
  };
}
