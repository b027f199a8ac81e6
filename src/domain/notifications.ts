/**
 * What tour-import tells an operations team, and the half-open circuit breaker's policy. Pure code,
 * shared by workflows (which decide when to tell) and activities (which deliver and keep the record).
 */

export const NOTIFICATION_EVENTS = [
  'paused',
  'resumed',
  'import-failed',
  'import-cancelled',
  'delta-mark-stale',
  'failing-runs',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** Who paused an operator: a person, the circuit breaker (failed tours or listing), or the removal guard. */
export type PausedBy = 'person' | 'breaker' | 'removal-guard';

export interface Notification {
  event: NotificationEvent;
  operatorId: string;
  /** One line a person reads first (Slack text, the JSON's `message`). */
  message: string;
  /**
   * Same key, same notification: a retried activity or a replayed workflow task sends it once per sink.
   * Workflows use `<workflowId>/<runId>/<sequence>:<event>`.
   */
  dedupKey: string;
  pausedBy?: PausedBy;
  workflowId?: string;
}

/** Attempts of one notification per sink (the notify activity's retry policy): then it is recorded as failed. */
export const NOTIFY_ATTEMPTS = 4;

export const DEFAULT_FAILING_RUNS = 3;
/** Schedule intervals a delta mark may fall behind before it is reported. */
const DELTA_MARK_INTERVALS = 3;

/** An operator's settings as registered (operators.settings), as far as its alert thresholds go. */
export interface AlertingSettings {
  alerts?: { deltaMarkMaxAge?: number; failingRuns?: number };
  schedule?: { everyMs?: number };
  delta?: boolean;
}

/**
 * The thresholds in force for an operator: the notifications (after each import) and the Prometheus
 * gauges (deploy/prometheus/alerts.yml) both use these. No mark age without delta imports or a schedule.
 */
export function alertThresholds(s: AlertingSettings): { failingRuns: number; markMaxAgeMs?: number } {
  const every = s.schedule?.everyMs;
  const markMaxAgeMs =
    s.delta === false
      ? undefined
      : (s.alerts?.deltaMarkMaxAge ?? (every ? DELTA_MARK_INTERVALS * every : undefined));
  return { failingRuns: s.alerts?.failingRuns ?? DEFAULT_FAILING_RUNS, markMaxAgeMs };
}

/** The half-open circuit breaker (operators file: `circuitBreaker.autoResume`, `cooldown`, …). */
export interface HalfOpenSettings {
  /** false: a tripped breaker waits for a person, as before. */
  autoResume: boolean;
  cooldownMs: number;
  /** Each failed probe doubles the cooldown, up to this. */
  maxCooldownMs: number;
  /** Tours that must succeed in a row after an automatic resume to close the breaker. */
  probeTours: number;
}

export const DEFAULT_HALF_OPEN: HalfOpenSettings = {
  autoResume: true,
  cooldownMs: 15 * 60_000,
  maxCooldownMs: 4 * 3_600_000,
  probeTours: 3,
};

/** The cooldown after a failed probe. */
export function nextCooldown(cooldownMs: number, s: HalfOpenSettings): number {
  return Math.min(cooldownMs * 2, Math.max(s.maxCooldownMs, s.cooldownMs));
}
