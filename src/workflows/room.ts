import { defineSignal, getExternalWorkflowHandle, log } from '@temporalio/workflow';
import { SIGNALS } from '../constants.js';
import type { CarriedState } from './types.js';

/**
 * Small imports go first. Fair dispatch (`matching.enableFairness`) shares the workers between
 * operators, but when the CPU is the bottleneck rather than the workers' slots it can only give a
 * small import its share of busy cores. So an import whose listing ended within its first two pages
 * (a full first page may be all there is, so the second is listed at once) asks the other operators'
 * running imports to make room: each one with more tours left than that narrows its window to
 * `roomWindow()`, and starts its tours at a lower priority, until the small import finishes (or the
 * lease runs out, should the small import never say so). A big import keeps going at a trickle
 * meanwhile.
 */
export interface RoomRequest {
  /** The asking import's run (`import_runs.id`): the key its later `roomFreed` names. */
  importRunId: number;
  operatorId: string;
  /** Tours the asking import has to import in all. */
  tours: number;
  /** Workflow time (ms since the epoch) after which the request lapses by itself. */
  untilMs: number;
}

export const makeRoomSignal = defineSignal<[RoomRequest]>(SIGNALS.makeRoom);
export const roomFreedSignal = defineSignal<[{ importRunId: number }]>(SIGNALS.roomFreed);

/** How long a request holds without its `roomFreed`: longer than a one-page import takes. */
const ROOM_LEASE_MS = 10 * 60_000;

/** The window of an import that is making room: a fifth of its own, at least one child. */
export function roomWindow(window: number): number {
  return Math.max(1, Math.floor(window / 5));
}

/** Tours this import still has to start; unknown (infinite) while its listing goes on. */
function toursLeft(state: CarriedState): number {
  return state.listingDone ? state.progress.queued : Infinity;
}

/** Records a request if this import has more left than the asker; returns whether it did. */
export function grantRoom(state: CarriedState, request: RoomRequest, nowMs: number): boolean {
  if (request.tours >= toursLeft(state)) return false;
  const standing = Object.entries(state.makingRoomFor ?? {}).filter(([, until]) => until > nowMs);
  state.makingRoomFor = { ...Object.fromEntries(standing), [request.importRunId]: request.untilMs };
  return true;
}

export function freeRoom(state: CarriedState, importRunId: number): void {
  const { [importRunId]: _freed, ...rest } = state.makingRoomFor ?? {};
  state.makingRoomFor = rest;
}

/** Whether a request stands that has not lapsed. */
export function makingRoom(state: CarriedState, nowMs: number): boolean {
  return Object.values(state.makingRoomFor ?? {}).some((until) => until > nowMs);
}

/**
 * The window to fill now: narrowed while making room. The tours started meanwhile also take a lower
 * priority (`MAKING_ROOM_PRIORITY_KEY`), so the tasks and resizes of the tours already in flight are
 * all that the smaller import shares the workers with at an equal footing.
 */
export function currentWindow(state: CarriedState, nowMs: number): number {
  return makingRoom(state, nowMs) ? roomWindow(state.settings.window) : state.settings.window;
}

/** Sends a signal to each import, ignoring those that have ended meanwhile. */
async function signalImports<A extends unknown[]>(
  workflowIds: readonly string[],
  signal: ReturnType<typeof defineSignal<A>>,
  ...args: A
): Promise<void> {
  await Promise.all(
    workflowIds.map((id) =>
      getExternalWorkflowHandle(id)
        .signal(signal, ...args)
        .catch(() => undefined),
    ),
  );
}

/** A request answered: granted (and logged) when this import has more left than the asker. */
export function makeRoom(state: CarriedState, request: RoomRequest): void {
  if (grantRoom(state, request, Date.now()))
    log.info('Making room for a smaller import', { ...request, window: currentWindow(state, Date.now()) });
}

/** A small import asks the other operators' running imports to make room for its tours. */
export function askForRoom(state: CarriedState, operatorId: string, tours: number, others: string[]): void {
  state.roomAskedOf = others;
  const request: RoomRequest = {
    importRunId: state.importRunId,
    operatorId,
    tours,
    untilMs: Date.now() + ROOM_LEASE_MS,
  };
  void signalImports(others, makeRoomSignal, request);
}

/** The import has ended: those it asked to make room for it widen their windows again. */
export function giveRoomBack(state: CarriedState): void {
  if (state.roomAskedOf?.length)
    void signalImports(state.roomAskedOf, roomFreedSignal, { importRunId: state.importRunId });
}
