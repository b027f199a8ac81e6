import type { ImportStatus, Progress } from './types.js';

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
