import { condition, patched } from '@temporalio/workflow';
import type { OperatorImportActivities } from '../activities/operator-import/index.js';
import { nextCooldown, type PausedBy } from '../domain/notifications.js';
import { halfOpenSettings } from '../domain/operator-import.js';
import type { Notifier } from './notify.js';
import { PATCHES } from './patches.js';
import type { CarriedState, ImportStatus, Progress } from './types.js';

export interface PauseControl {
  /** Whether the import is paused (or asked to pause): no new tour starts. */
  readonly paused: boolean;
  /** A pause asked for by a person (signal) or by the breaker (failed tours, a failed listing). */
  request(reason: string, by: PausedBy): void;
  /** A person's resume (signal): `hold` records it and lets the import go on. */
  resume(): void;
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

/** What the pause needs of its import: its progress and state, where to record, whom to tell. */
export interface PauseOptions {
  progress(): Progress;
  state(): CarriedState;
  bookkeeping: Pick<OperatorImportActivities, 'setOperatorPaused'>;
  notifier: Notifier;
  showStatus(status: ImportStatus): void;
  operatorId: string;
}

/**
 * The pause state of one import: who paused it, whether PostgreSQL knows, and the half-open breaker
 * (docs/operations.md: Notifications and self-healing pauses). `state` is undefined until the import has begun.
 */
export function pauseControl(o: PauseOptions): PauseControl {
  return new ImportPause(o);
}

class ImportPause implements PauseControl {
  private pausedBy: PausedBy = 'person';
  /** Whether PostgreSQL (and so the operators page, the schedules, the team) knows of the pause. */
  private recorded = false;
  /** A failed probe pauses again without telling anyone again: "paused" was sent when it first tripped. */
  private reopened = false;

  constructor(private readonly o: PauseOptions) {}

  get paused(): boolean {
    return this.o.progress().paused;
  }

  resume = () => {
    this.o.progress().paused = false;
  };

  request = (reason: string, by: PausedBy) => {
    const progress = this.o.progress();
    progress.paused = true;
    progress.pauseReason = reason;
    this.pausedBy = by;
    this.recorded = false;
  };

  trip = (reason: string) => {
    const state = this.o.state();
    if (state.probeLeft) {
      const s = halfOpenSettings(state.settings.breaker);
      state.breakerCooldownMs = nextCooldown(state.breakerCooldownMs ?? s.cooldownMs, s);
      state.probeLeft = 0;
      this.reopened = true;
      reason = `${reason}; the breaker is open again, next probe in ${Math.round(state.breakerCooldownMs / 1000)} s`;
    }
    this.request(reason, 'breaker');
  };

  async hold(lastErrors: string[] = []) {
    const progress = this.o.progress();
    if (!progress.paused) return;
    const state = this.o.state();
    // Histories recorded before the half-open breaker wait for a person, as they did.
    const halfOpen = patched(PATCHES.halfOpenBreaker) ? halfOpenSettings(state.settings.breaker) : undefined;
    let resumedAlone = false;
    do {
      const cooldownMs =
        halfOpen?.autoResume && this.pausedBy === 'breaker'
          ? (state.breakerCooldownMs ?? halfOpen.cooldownMs)
          : undefined;
      if (!this.recorded) await this.record(lastErrors, cooldownMs);
      // A new pause while waiting (a person's after the breaker's) is recorded, and ends the cooldown.
      if (cooldownMs === undefined) await condition(() => !progress.paused || (!!halfOpen && !this.recorded));
      else if (!(await condition(() => !progress.paused || !this.recorded, cooldownMs))) {
        progress.paused = false;
        resumedAlone = true;
      }
    } while (progress.paused);
    await this.resumed(resumedAlone, halfOpen?.probeTours);
  }

  probeOutcome = (ok: boolean) => {
    const state = this.o.state();
    if (!state.probeLeft) return false;
    if (!ok) this.trip('circuit breaker: a probe tour failed');
    else if (--state.probeLeft === 0)
      this.closeBreaker('circuit breaker closed: the probe tours after the cooldown were imported');
    return true;
  };

  window(window: number) {
    const left = this.o.state().probeLeft;
    return left ? Math.min(window, left) : window;
  }

  ended(status: ImportStatus) {
    if (status === 'completed' && this.o.state().probeLeft)
      this.closeBreaker('circuit breaker closed: the import completed after the cooldown without a failure');
  }

  /** The pause made durable in PostgreSQL, then shown and told (once per trip). */
  private async record(lastErrors: string[], resumeInMs: number | undefined) {
    const { progress, state } = { progress: this.o.progress(), state: this.o.state() };
    this.recorded = true;
    await this.o.bookkeeping.setOperatorPaused({
      operatorId: this.o.operatorId,
      paused: true,
      reason: progress.pauseReason,
      lastErrors,
      importRunId: state.importRunId,
      progress,
      pausedBy: this.pausedBy,
      resumeInMs,
    });
    // Reported as paused only once the pause is durable in PostgreSQL.
    this.o.showStatus((progress.status = 'paused'));
    if (!this.reopened)
      this.o.notifier.send('paused', progress.pauseReason ?? 'paused', { pausedBy: this.pausedBy });
    this.reopened = false;
  }

  /** Running again: by a person (the breaker closes), or alone after the cooldown (a probe starts). */
  private async resumed(alone: boolean, probeTours: number | undefined) {
    const { progress, state } = { progress: this.o.progress(), state: this.o.state() };
    await this.o.bookkeeping.setOperatorPaused({
      operatorId: this.o.operatorId,
      paused: false,
      reason: null,
      importRunId: state.importRunId,
      progress,
    });
    progress.pauseReason = null;
    this.o.showStatus((progress.status = 'running'));
    if (alone) state.probeLeft = probeTours!;
    else this.closeBreaker('resumed by a person');
  }

  private closeBreaker(message: string) {
    const state = this.o.state();
    state.probeLeft = 0;
    state.breakerCooldownMs = undefined;
    this.o.notifier.send('resumed', message);
  }
}
