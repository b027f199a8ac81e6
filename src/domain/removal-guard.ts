/**
 * The removal guard: an import that would remove more than `maxShare` of the tours active when it
 * began, and at least `minCount` tours, applies none of its removals and waits for a person. A broken
 * feed, an endpoint that moved or a listing cut short can look like a catalog emptied overnight; a
 * real operator rarely removes a tenth of its catalog at once.
 */
export interface RemovalGuard {
  maxShare: number;
  minCount: number;
}

export const DEFAULT_REMOVAL_GUARD: RemovalGuard = { maxShare: 0.1, minCount: 5 };

/** Whether `removals` out of `activeAtStart` tours are more than the guard lets an import apply alone. */
export function removalsNeedAPerson(removals: number, activeAtStart: number, guard: RemovalGuard): boolean {
  return removals >= guard.minCount && removals > guard.maxShare * activeAtStart;
}

export function heldRemovalsReason(
  operatorId: string,
  held: number,
  activeAtStart: number,
  guard: RemovalGuard,
): string {
  return (
    `removal guard: the import would remove ${held} of ${activeAtStart} active tours ` +
    `(more than ${Math.round(guard.maxShare * 100)} % and at least ${guard.minCount}); none was removed. ` +
    `\`tour-import resume ${operatorId} --apply-removals\` removes them, \`tour-import resume ${operatorId}\` keeps the tours`
  );
}
