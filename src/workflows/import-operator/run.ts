import { proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { OperatorImportActivities } from '../../activities/operator-import/index.js';
import { operatorPriority } from '../../constants.js';
import { DEFAULT_RETRY, emptyProgress, type ResolvedSettings } from '../../domain/operator-import.js';
import { createNotifier, type Notifier } from '../notify.js';
import { pauseControl, type PauseControl } from '../pause.js';
import { activityProfiles } from '../retry.js';
import {
  currentWindow,
  freeRoom,
  makeRoom,
  makeRoomSignal,
  roomFreedSignal,
  type RoomRequest,
} from '../room.js';
import type { CarriedState, ImportOperatorInput, Progress } from '../types.js';
import { showImportStatus } from './search-attributes.js';
import { pauseSignal, progressQuery, resumeSignal } from './signals.js';

/**
 * One run of an operator's import, shared by the story in import-operator.ts and the helpers beside
 * it: who it is, its progress (answered to queries from the first moment), and once it has begun, the
 * state it carries across continue-as-new.
 */
export interface OperatorImportRun {
  readonly input: ImportOperatorInput;
  readonly workflowId: string;
  readonly runId: string;
  progress: Progress;
  /** Set once the import has begun (or was carried over from the previous run). */
  state?: CarriedState;
  /** PostgreSQL bookkeeping: the run, its lock, pauses, failures and removals. */
  readonly bookkeeping: ReturnType<typeof proxyActivities<OperatorImportActivities>>;
  readonly notifier: Notifier;
  readonly pause: PauseControl;
}

/**
 * Opens the run and answers its queries and signals before anything is awaited, so a progress query
 * or a pause that arrives while the import begins is answered. Room requests that arrive before the
 * import has begun wait for it (`began`).
 */
export function openRun(input: ImportOperatorInput) {
  const { workflowId, runId } = workflowInfo();
  const priority = operatorPriority(input.operatorId);
  const bookkeeping = proxyActivities<OperatorImportActivities>({
    ...activityProfiles(DEFAULT_RETRY).db,
    priority,
  });
  const notifier = createNotifier({
    operatorId: input.operatorId,
    workflowId,
    runId,
    retry: { ...DEFAULT_RETRY, ...input.settings?.retry },
  });
  const run: OperatorImportRun = {
    input,
    workflowId,
    runId,
    progress: input.carried?.progress ?? emptyProgress(),
    bookkeeping,
    notifier,
    pause: pauseControl({
      operatorId: input.operatorId,
      progress: () => run.progress,
      state: () => run.state,
      bookkeeping,
      notifier,
      showStatus: (status) => showImportStatus(input, status),
    }),
  };
  const earlyRoomRequests = answerSignals(run);
  return {
    run,
    /** The import has begun with this state: room requests that came early are answered now. */
    began(state: CarriedState) {
      run.progress = state.progress;
      run.pause.began(state);
      run.state = state;
      for (const request of earlyRoomRequests) makeRoom(state, request);
    },
  };
}

function answerSignals(run: OperatorImportRun): RoomRequest[] {
  setHandler(progressQuery, () =>
    run.state
      ? { ...run.progress, window: run.pause.window(currentWindow(run.state, Date.now())) }
      : run.progress,
  );
  setHandler(pauseSignal, (arg) =>
    run.pause.request(arg?.reason ?? 'paused by request', 'person', { told: arg?.told }),
  );
  setHandler(resumeSignal, (arg) => run.pause.resume({ told: arg?.told }));
  // A smaller import asks for room (see room.ts); one that asks before this import has begun waits.
  const early: RoomRequest[] = [];
  setHandler(makeRoomSignal, (request) =>
    run.state ? makeRoom(run.state, request) : void early.push(request),
  );
  setHandler(roomFreedSignal, ({ importRunId }) => run.state && freeRoom(run.state, importRunId));
  return early;
}

/** The state of an import that has just begun: nothing listed, nothing started. */
export function newImportState(importRunId: number, settings: ResolvedSettings): CarriedState {
  return {
    importRunId,
    pending: [],
    listingDone: false,
    progress: emptyProgress(),
    recent: [],
    consecutiveFailures: 0,
    settings,
  };
}
