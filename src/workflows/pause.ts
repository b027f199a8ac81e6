import { condition } from '@temporalio/workflow';
import type { OperatorImportActivities } from '../activities/operator-import/index.js';
import { nextCooldown, type PausedBy } from '../domain/notifications.js';
import { halfOpenSettings } from '../domain/operator-import.js';
import type { Notifier } from './notify.js';
import type { CarriedState, ImportStatus, PauseState, Progress } from './types.js';

export interface PauseControl {
  /** Whether the import is paused (or asked to pause): no new tour starts. */
  readonly paused: boolean;
  /**
   * A pause asked for by a person (signal) or by the breaker (failed tours, a failed listing); `told`: the
   * one who asked tells the team (the CLI, the API), so the import records it without telling it again.
   */
  request(reason: string, by: PausedBy, o?: { told?: boolean }): void;
  /** A person's resume (signal): `hold` records it and lets the import go on; `told` as for request. */
  resume(o?: { told?: boolean }): void;
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
  /** The import has begun with this state: a pause asked for before it is kept in the state from now on. */
  began(state: CarriedState): void;
}

/** What the pause needs of its import: its progress and state, where to record, whom to tell. */
export interface PauseOptions {
  progress(): Progress;
  /** Undefined until the import has begun (a pause may be asked for before). */
  state(): CarriedState | undefined;
  bookkeeping: Pick<OperatorImportActivities, 'setOperatorPaused'>;
  notifier: Notifier;
  showStatus(status: ImportStatus): void;
  operatorId: string;
}

/**
 * The pause state of one import: who paused it, whether PostgreSQL knows, and the half-open breaker
 * (docs/operations.md: Notifications and self-healing pauses). All of it lives in the carried state once
 * the import has begun, so a run continued as new goes on with the same pause.
 */
export function pauseControl(o: PauseOptions): PauseControl {
  return new ImportPause(o);
}

class ImportPause implements PauseControl {
  /** Until the import has begun; then the state's. */
  private early: PauseState = { by: 'person', recorded: false, reopened: false };
  private askedEarly = false;

  constructor(private readonly o: PauseOptions) {}

  private get p(): PauseState {
    return this.o.state()?.pause ?? this.early;
  }

  /** The import's state; the operations that need it run only once it has begun. */
  private get state(): CarriedState {
    const state = this.o.state();
    if (!state) throw new Error('the import has not begun');
    return state;
  }

  began(state: CarriedState) {
    // A pause asked for while the import began wins; a new import (no pause carried yet) starts with it.
    if (this.askedEarly || !state.pause) state.pause = this.early;
  }

  get paused(): boolean {
    return this.o.progress().paused;
  }

  /** Whether the resume that ends the present pause was told by whoever asked for it. */
  private resumeTold = false;

  resume = (o: { told?: boolean } = {}) => {
    this.o.progress().paused = false;
    this.resumeTold = o.told ?? false;
  };

  request = (reason: string, by: PausedBy, o: { told?: boolean } = {}) => {
    const progress = this.o.progress();
    progress.paused = true;
    progress.pauseReason = reason;
    if (!this.o.state()) this.askedEarly = true;
    this.p.by = by;
    this.p.recorded = false;
    if (o.told) this.p.told = true;
    else delete this.p.told;
  };

  trip = (reason: string) => {
    const state = this.state;
    if (state.probeLeft) {
      const s = halfOpenSettings(state.settings.breaker);
      state.breakerCooldownMs = nextCooldown(state.breakerCooldownMs ?? s.cooldownMs, s);
      state.probeLeft = 0;
      this.p.reopened = true;
      reason = `${reason}; the breaker is open again, next probe in ${Math.round(state.breakerCooldownMs / 1000)} s`;
    }
    this.request(reason, 'breaker');
  };

  async hold(lastErrors: string[] = []) {
    const progress = this.o.progress();
    if (!progress.paused) return;
    const state = this.state;
    const halfOpen = halfOpenSettings(state.settings.breaker);
    let resumedAlone = false;
    do {
      const cooldownMs =
        halfOpen?.autoResume && this.p.by === 'breaker'
          ? (state.breakerCooldownMs ?? halfOpen.cooldownMs)
          : undefined;
      if (!this.p.recorded) await this.record(lastErrors, cooldownMs);
      // A new pause while waiting (a person's after the breaker's) is recorded, and ends the cooldown.
      if (cooldownMs === undefined)
        await condition(() => !progress.paused || (!!halfOpen && !this.p.recorded));
      else if (!(await condition(() => !progress.paused || !this.p.recorded, cooldownMs))) {
        progress.paused = false;
        resumedAlone = true;
      }
    } while (progress.paused);
    await this.resumed(resumedAlone, halfOpen?.probeTours);
  }

  probeOutcome = (ok: boolean) => {
    const state = this.state;
    if (!state.probeLeft) return false;
    if (!ok) this.trip('circuit breaker: a probe tour failed');
    else if (--state.probeLeft === 0)
      this.closeBreaker('circuit breaker closed: the probe tours after the cooldown were imported');
    return true;
  };

  window(window: number) {
    const left = this.state.probeLeft;
    return left ? Math.min(window, left) : window;
  }

  ended(status: ImportStatus) {
    if (status === 'completed' && this.state.probeLeft)
      this.closeBreaker('circuit breaker closed: the import completed after the cooldown without a failure');
  }

  /** The pause made durable in PostgreSQL, then shown and told (once per trip). */
  private async record(lastErrors: string[], resumeInMs: number | undefined) {
    const { progress, state, p } = { progress: this.o.progress(), state: this.state, p: this.p };
    p.recorded = true;
    await this.o.bookkeeping.setOperatorPaused({
      operatorId: this.o.operatorId,
      paused: true,
      reason: progress.pauseReason,
      lastErrors,
      importRunId: state.importRunId,
      progress,
      pausedBy: p.by,
      resumeInMs,
    });
    // Reported as paused only once the pause is durable in PostgreSQL.
    this.o.showStatus((progress.status = 'paused'));
    if (!p.reopened && !p.told)
      this.o.notifier.send('paused', progress.pauseReason ?? 'paused', { pausedBy: p.by });
    p.reopened = false;
  }

  /** Running again: by a person (the breaker closes), or alone after the cooldown (a probe starts). */
  private async resumed(alone: boolean, probeTours: number | undefined) {
    const { progress, state } = { progress: this.o.progress(), state: this.state };
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
    else this.closeBreaker('resumed by a person', !this.resumeTold);
    this.resumeTold = false;
  }

  private closeBreaker(message: string, tell = true) {
    const state = this.state;
    state.probeLeft = 0;
    state.breakerCooldownMs = undefined;
    if (tell) this.o.notifier.send('resumed', message);
  }
}
