/**
 * The removal guard: an import that would remove more than `maxShare` of the tours active when it
 * began, and at least `minCount` tours, applies none of its removals and waits for a person. A broken
 * feed, an endpoint that moved or a listing cut short can look like a catalog emptied overnight; a
 * real operator rarely removes a tenth of its catalog at once.
 *
 * A push is an import of one tour, and a burst of pushes is what a broken sender looks like, so
 * pushed removals are counted per operator over a rolling window of `pushWindowMs` (see
 * pushedRemovalNeedsAPerson).
 */
export interface RemovalGuard {
  maxShare: number;
  minCount: number;
  pushWindowMs: number;
}

export const DEFAULT_REMOVAL_GUARD: RemovalGuard = { maxShare: 0.1, minCount: 5, pushWindowMs: 3_600_000 };

/** Whether `removals` out of `activeAtStart` tours are more than the guard lets an import apply alone. */
export function removalsNeedAPerson(removals: number, activeAtStart: number, guard: RemovalGuard): boolean {
  return removals >= guard.minCount && removals > guard.maxShare * activeAtStart;
}

/** What the pushes of one operator within the guard's window have done, when one more brings a tombstone. */
export interface PushWindow {
  /** Removals pushes applied at once within the window (those tours are removed now). */
  appliedInWindow: number;
  /** The operator's active tours now, the tour this push would remove among them. */
  activeNow: number;
  /** Removals held for a person, from pushes or an import. */
  held: number;
}

/**
 * The tours active when the window began: those active now and those the window's pushes removed.
 * (Tours added meanwhile count as if they had been there: the guard errs on the lenient side only by
 * what the window added.) The same base an import's removals are measured against, for a burst.
 */
export function activeAtWindowStart(w: PushWindow): number {
  return w.activeNow + w.appliedInWindow;
}

/**
 * Whether one more pushed removal needs a person: it joins removals already waiting for one, or it
 * makes the window's pushed removals more than the guard lets an import apply alone. One pushed
 * removal applies at once; the one that takes a burst over the guard holds the whole burst.
 */
export function pushedRemovalNeedsAPerson(w: PushWindow, guard: RemovalGuard): boolean {
  return w.held > 0 || removalsNeedAPerson(w.appliedInWindow + 1, activeAtWindowStart(w), guard);
}

export function heldRemovalsReason(
  operatorId: string,
  held: number,
  activeAtStart: number,
  guard: RemovalGuard,
): string {
  return (
    `removal guard: the import would remove ${held} of ${activeAtStart} active tours ` +
    `(${limits(guard)}); none was removed. ${howToDecide(operatorId)}`
  );
}

export function heldPushedRemovalsReason(
  operatorId: string,
  held: number,
  activeAtStart: number,
  guard: RemovalGuard,
): string {
  return (
    `removal guard: pushes within ${durationText(guard.pushWindowMs)} would remove ${held} of ` +
    `${activeAtStart} active tours (${limits(guard)}); none was removed. ${howToDecide(operatorId)}`
  );
}

function limits(guard: RemovalGuard): string {
  return `more than ${Math.round(guard.maxShare * 100)} % and at least ${guard.minCount}`;
}

function howToDecide(operatorId: string): string {
  return (
    `\`tour-import resume ${operatorId} --apply-removals\` removes them, ` +
    `\`tour-import resume ${operatorId}\` keeps the tours`
  );
}

/** "1 h", "90 min", "2 d", "45 s": the window as the operators file would say it. */
function durationText(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  const [size, unit] = units.find(([size]) => ms >= size && ms % size === 0) ?? [1, 'ms'];
  return `${ms / size} ${unit}`;
}

/** An operator's removal guard: its `removalGuard` setting (from the operators file) over the defaults. */
export function operatorRemovalGuard(settings: Record<string, unknown>): RemovalGuard {
  return { ...DEFAULT_REMOVAL_GUARD, ...(settings['removalGuard'] as Partial<RemovalGuard> | undefined) };
}
