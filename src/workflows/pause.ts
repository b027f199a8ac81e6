import { condition, patched } from '@temporalio/workflow';
import type { OperatorImportActivities } from '../activities/operator-import/index.js';
import { nextCooldown, type PausedBy } from '../domain/notifications.js';
import { halfOpenSettings } from '../domain/operator-import.js';
import type { Notifier } from './notify.js';
import { PATCHES } from './patches.js';
import type { CarriedState, ImportStatus, Progress } from './types.js';

export interface PauseControl {
  /** A pause asked for by a person (signal) or by the breaker (failed tours, a failed listing). */
  request(reason: string, by: PausedBy): void;
  /** The breaker tripped: a pause, or, while a probe runs, the breaker open again for a longer cooldown. */
  trip(reason: string): void;
  /** Waits durably while paused; a breaker pause may end on its own after its cooldown (half-open). */
  hold(lastErrors?: string[]): Promise<void>;
  /** Counts a tour's outcome toward a running probe; false when none runs (the breaker counts it). */
  probeOutcome(ok: boolean): boolean;
  /** The window while a probe runs: only its tours at once. */
  window(window: number): number;
  /** The import ends: a probe that met no failure closes the breaker. */
  ended(status: ImportStatus): void;
}

/**
 * The pause state of one import: who paused it, whether PostgreSQL knows, and the half-open breaker
 * (docs/operations.md: Notifications and self-healing pauses). `state` is undefined until the import has begun.
 */
export function pauseControl(o: {
  progress(): Progress;
  state(): CarriedState;
  db: Pick<OperatorImportActivities, 'setOperatorPaused'>;
  notifier: Notifier;
  setStatus(status: ImportStatus): void;
  operatorId: string;
}): PauseControl {
  let pausedBy: PausedBy = 'person';
  let recorded = false;
  /** A failed probe pauses again without telling anyone again: "paused" was sent when it first tripped. */
  let reopened = false;

  function request(reason: string, by: PausedBy) {
    const progress = o.progress();
    progress.paused = true;
    progress.pauseReason = reason;
    pausedBy = by;
    recorded = false;
  }

  function closeBreaker(message: string) {
    const state = o.state();
    state.probeLeft = 0;
    state.breakerCooldownMs = undefined;
    o.notifier.send('resumed', message);
  }

  function trip(reason: string) {
    const state = o.state();
    if (state.probeLeft) {
      const s = halfOpenSettings(state.settings.breaker);
      state.breakerCooldownMs = nextCooldown(state.breakerCooldownMs ?? s.cooldownMs, s);
      state.probeLeft = 0;
      reopened = true;
      reason = `${reason}; the breaker is open again, next probe in ${Math.round(state.breakerCooldownMs / 1000)} s`;
    }
    request(reason, 'breaker');
  }

  async function hold(lastErrors: string[] = []) {
    const progress = o.progress();
    const state = o.state();
    if (!progress.paused) return;
    // Histories recorded before the half-open breaker wait for a person, as they did.
    const halfOpen = patched(PATCHES.halfOpenBreaker) ? halfOpenSettings(state.settings.breaker) : undefined;
    let resumedAlone = false;
    do {
      const cooldownMs =
        halfOpen?.autoResume && pausedBy === 'breaker'
          ? (state.breakerCooldownMs ?? halfOpen.cooldownMs)
          : undefined;
      if (!recorded) {
        recorded = true;
        await o.db.setOperatorPaused({
          operatorId: o.operatorId,
          paused: true,
          reason: progress.pauseReason,
          lastErrors,
          importRunId: state.importRunId,
          progress,
          pausedBy,
          resumeInMs: cooldownMs,
        });
        // Reported as paused only once the pause is durable in PostgreSQL.
        o.setStatus((progress.status = 'paused'));
        if (!reopened) o.notifier.send('paused', progress.pauseReason ?? 'paused', { pausedBy });
        reopened = false;
      }
      // A new pause while waiting (a person's after the breaker's) is recorded, and ends the cooldown.
      if (cooldownMs === undefined) await condition(() => !progress.paused || (!!halfOpen && !recorded));
      else if (!(await condition(() => !progress.paused || !recorded, cooldownMs))) {
        progress.paused = false;
        resumedAlone = true;
      }
    } while (progress.paused);
    await o.db.setOperatorPaused({
      operatorId: o.operatorId,
      paused: false,
      reason: null,
      importRunId: state.importRunId,
      progress,
    });
    progress.pauseReason = null;
    o.setStatus((progress.status = 'running'));
    if (resumedAlone) state.probeLeft = halfOpen!.probeTours;
    else closeBreaker('resumed by a person');
  }

  return {
    request,
    hold,
    trip,
    probeOutcome(ok) {
      const state = o.state();
      if (!state.probeLeft) return false;
      if (!ok) trip('circuit breaker: a probe tour failed');
      else if (--state.probeLeft === 0)
        closeBreaker('circuit breaker closed: the probe tours after the cooldown were imported');
      return true;
    },
    window(window) {
      const left = o.state().probeLeft;
      return left ? Math.min(window, left) : window;
    },
    ended(status) {
      if (status === 'completed' && o.state().probeLeft)
        closeBreaker('circuit breaker closed: the import completed after the cooldown without a failure');
    },
  };
}
