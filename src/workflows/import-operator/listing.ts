import { isCancellation, proxyActivities } from '@temporalio/workflow';
import type { OperatorImportActivities } from '../../activities/operator-import/index.js';
import { operatorPriority } from '../../constants.js';
import { countPage } from '../../domain/operator-import.js';
import { rootFailure } from '../failure.js';
import { activityProfiles } from '../retry.js';
import { askForRoom } from '../room.js';
import { untilReachable } from '../unreachable.js';
import type { CarriedState } from '../types.js';
import type { OperatorImportRun } from './run.js';

interface OperatorListing {
  /** Whether the next step is to list a page: nothing left to start, or the early second page. */
  wantsPage(pending: string[]): boolean;
  /** Lists the next page: its tours to import, or undefined when listing failed (the operator is paused). */
  nextPage(): Promise<string[] | undefined>;
}

/**
 * Lists the operator's tours page by page from the state's position. A first page that came back
 * full may be all there is: the second is listed at once to know, and an import listed in full within
 * its first two pages is a small one, which asks the other running imports to make room for it.
 */
export function operatorListing(run: OperatorImportRun, state: CarriedState, otherImports: string[]) {
  const { input } = run;
  const operatorApi = proxyActivities<OperatorImportActivities>({
    ...activityProfiles(state.settings.retry).listing,
    priority: operatorPriority(input.operatorId),
  });
  let pagesListed = 0;
  let toursListedToImport = 0;

  async function nextPage(): Promise<string[] | undefined> {
    try {
      // PostgreSQL unreachable is waited out: it is not the operator's failure, and trips no breaker.
      const page = await untilReachable('listPage', () =>
        operatorApi.listPage({
          operatorId: input.operatorId,
          importRunId: state.importRunId,
          position: state.position,
          settings: state.settings,
        }),
      );
      state.position = page.next;
      state.listingDone = page.next === undefined;
      state.deltaMark = page.deltaMark ?? state.deltaMark;
      countPage(run.progress, page);
      toursListedToImport += page.toImport.length;
      const small = ++pagesListed <= 2 && state.listingDone && !input.carried;
      if (small && toursListedToImport && otherImports.length)
        askForRoom(state, input.operatorId, toursListedToImport, otherImports);
      return page.toImport;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const { type, message } = rootFailure(err);
      run.pause.trip(`listing failed: ${type}: ${message}`.slice(0, 500));
      return undefined;
    }
  }

  return {
    wantsPage: (pending) => !pending.length || (pagesListed === 1 && !state.listingDone && !input.carried),
    nextPage,
  } satisfies OperatorListing;
}
