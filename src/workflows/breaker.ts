import { DEFAULT_HALF_OPEN, type HalfOpenSettings } from '../domain/notifications.js';
import type { BreakerSettings } from './types.js';

export const DEFAULT_BREAKER: BreakerSettings = { consecutiveFailures: 5, failureRatio: 0.5, overLast: 20 };

/** Pure circuit-breaker state: outcomes of the last tours, newest last. */
export interface BreakerState {
  recent: boolean[];
  consecutiveFailures: number;
}

export function recordOutcome(state: BreakerState, ok: boolean, settings: BreakerSettings): BreakerState {
  const recent = [...state.recent, ok].slice(-settings.overLast);
  return { recent, consecutiveFailures: ok ? 0 : state.consecutiveFailures + 1 };
}

/** The reason to pause the operator, or undefined while it is healthy. */
export function breakerTrip(state: BreakerState, settings: BreakerSettings): string | undefined {
  if (state.consecutiveFailures >= settings.consecutiveFailures) {
    return `circuit breaker: ${state.consecutiveFailures} tours failed in a row`;
  }
  const failed = state.recent.filter((ok) => !ok).length;
  if (state.recent.length >= settings.overLast && failed / state.recent.length > settings.failureRatio) {
    return `circuit breaker: ${failed} of the last ${state.recent.length} tours failed`;
  }
  return undefined;
}

/** The half-open part of the operator's breaker settings, over the defaults. */
export function halfOpenSettings(b: BreakerSettings): HalfOpenSettings {
  return {
    autoResume: b.autoResume ?? DEFAULT_HALF_OPEN.autoResume,
    cooldownMs: b.cooldown ?? DEFAULT_HALF_OPEN.cooldownMs,
    maxCooldownMs: b.maxCooldown ?? DEFAULT_HALF_OPEN.maxCooldownMs,
    probeTours: b.probeTours ?? DEFAULT_HALF_OPEN.probeTours,
  };
}
