import { readyAssetsStored, variantRowsStored } from './blobs.js';
import { listedToursCurrent, removedToursGone, unlistedToursRemoved } from './catalog.js';
import { notificationsOnce, personPausesTold } from './notifications.js';
import { pushesImported, pushesStartedOnce } from './pushes.js';
import { noImportRunning, noLockHeld, pausesExplained } from './quiet.js';
import { verdict, type CheckInput, type InvariantResult } from './types.js';

export type { CheckInput, InvariantResult } from './types.js';
export { readOperatorTruth, type OperatorTruth } from './truth.js';

/** The processes that are the product's (or the operators'): an exit of theirs the soak did not cause is a defect. */
const PROJECT_PROCESS = /^(tour-import|image-processing)-\d+$|^api$|^simulator$/;

/** What the run itself shows: the final imports, the removals a person had to refuse, processes that died. */
export function finalImportsCompleted(i: Pick<CheckInput, 'finalImports'>): InvariantResult {
  const rows = i.finalImports
    .filter((f) => f.status !== 'completed')
    .map((f) => ({ ...f, problem: 'the full import after the faults did not complete' }));
  return verdict(
    'the final full import of every operator completed',
    `${i.finalImports.length} operators`,
    rows,
  );
}

export function heldRemovalsCaused(i: Pick<CheckInput, 'wrongHolds'>): InvariantResult {
  const rows = i.wrongHolds.map((w) => ({
    ...w,
    problem: 'held for removal, but the soak never removed it',
  }));
  return verdict('every removal held for a person was one the operator made', 'held removals settled', rows);
}

export function noProjectProcessDied(i: Pick<CheckInput, 'unexpectedExits'>): InvariantResult {
  const rows = i.unexpectedExits
    .filter((e) => PROJECT_PROCESS.test(e.name))
    .map((e) => ({ ...e, at: new Date(e.at).toISOString(), problem: 'exited without being killed' }));
  return verdict('no worker, API or simulator process exited on its own', 'process exits', rows);
}

/** Every invariant, in the order they are printed; one that cannot be checked fails with its error. */
export async function checkInvariants(i: CheckInput): Promise<InvariantResult[]> {
  const checks: [string, () => Promise<InvariantResult> | InvariantResult][] = [
    ['the final full import of every operator completed', () => finalImportsCompleted(i)],
    ['every listed tour is active with its current content', () => listedToursCurrent(i.pool, i.truth)],
    ['no tour removed wrongly', () => removedToursGone(i.pool, i.truth)],
    [
      'no tour kept after its removal (unless held for a person)',
      () => unlistedToursRemoved(i.pool, i.truth),
    ],
    ['every removal held for a person was one the operator made', () => heldRemovalsCaused(i)],
    [
      'every ready asset has its original and all variants stored',
      () => readyAssetsStored(i.pool, i.store, i.images),
    ],
    ['every variant row names an existing object', () => variantRowsStored(i.pool, i.store)],
    ['no ImportOperator or ImportTour left running', () => noImportRunning(i.client, i.pool, i.taskQueue)],
    ['no operator lock held', () => noLockHeld(i.pool)],
    ['every paused operator has a reason and who paused it', () => pausesExplained(i.pool)],
    [
      'every pushed tour was imported or failed with a reason',
      () => pushesImported(i.client, i.pool, i.deliveries),
    ],
    [
      'no pushed tour started twice beyond the coalescing rule',
      () => pushesStartedOnce(i.client, i.deliveries, i.taskQueue),
    ],
    [
      'no notification went out twice under different dedup keys',
      () => notificationsOnce(i.notifications, i.personActions),
    ],
    [
      'every pause a person made was told to the team',
      () => personPausesTold(i.notifications, i.personActions),
    ],
    ['no worker, API or simulator process exited on its own', () => noProjectProcessDied(i)],
  ];
  const results: InvariantResult[] = [];
  for (const [name, check] of checks) {
    try {
      results.push(await check());
    } catch (err) {
      results.push(verdict(name, 'could not be checked', [{ problem: (err as Error).message }]));
    }
  }
  return results;
}
