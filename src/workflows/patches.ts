/**
 * Workflow changes made while imports may be running, as `patched()` ids: a worker with the new code
 * replays a history recorded before the change the old way. Remove one (and its old branch) once no
 * workflow started before it can still be running or replayed.
 */
export const PATCHES = {
  /** #14: removals are applied when the import ends, through the removal guard. */
  removalGuard: 'removal-guard',
  /** #14: a child cancelled alone is a recorded failure, not the parent's cancellation. */
  childCancelledAlone: 'child-cancelled-alone',
  /** #14: a push import that closed before the listing's refresh signal is started again. */
  restartClosedPush: 'restart-closed-push',
  /** #18: notifications (paused, resumed, import failed or cancelled, alerts) sent by the notify activity. */
  notifications: 'notifications',
  /** #18: a tripped breaker resumes on its own after a cooldown, with a probe (half-open). */
  halfOpenBreaker: 'half-open-breaker',
} as const;
