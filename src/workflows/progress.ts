import type { CarriedState, ImportStatus, Progress, ResolvedSettings } from './types.js';

/** Progress of an import that has not listed anything yet. */
export function emptyProgress(status: ImportStatus = 'running'): Progress {
  return {
    listed: 0,
    queued: 0,
    running: 0,
    done: 0,
    unchanged: 0,
    failed: 0,
    removed: 0,
    invalid: 0,
    paused: false,
    pauseReason: null,
    status,
  };
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

/** Adds what one listing page decided to the progress. */
export function countPage(
  progress: Progress,
  page: { listed: number; unchanged: number; removed: number; invalid: number; toImport: string[] },
): void {
  progress.listed += page.listed;
  progress.unchanged += page.unchanged;
  progress.removed += page.removed;
  progress.invalid += page.invalid;
  progress.failed += page.invalid; // an invalid listing entry is a failed tour too
  progress.queued += page.toImport.length;
}

export function summary(p: Progress): string {
  return `listed ${p.listed}, imported ${p.done}, unchanged ${p.unchanged}, removed ${p.removed}, failed ${p.failed}`;
}
