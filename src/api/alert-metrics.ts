import { operatorAlertStates, type OperatorAlertState } from '../db/alert-state.js';
import type { Pool } from '../db/pool.js';
import { alertThresholds, type AlertingSettings } from '../domain/notifications.js';

type Sample = { labels: Record<string, string>; value: number };
/** createMetrics' gauge: read at scrape time through `load`. */
type GaugeOf = (name: string, help: string, labelNames: string[], load: () => Promise<Sample[]>) => unknown;

/**
 * The gauges behind deploy/prometheus/alerts.yml, one per notification event that is a state (docs/operations.md:
 * Traces, dashboard and alerts). Each threshold is a gauge of its own, from the same settings the
 * notifications use, so a rule compares two series and every operator keeps its own threshold.
 */
export function registerAlertMetrics(gauge: GaugeOf, pool: Pool): void {
  // One query per scrape feeds all five gauges (prom-client may collect them at once).
  let last: { at: number; states: Promise<OperatorAlertState[]> } | undefined;
  const states = () => {
    if (!last || Date.now() - last.at > 1000) last = { at: Date.now(), states: operatorAlertStates(pool) };
    return last.states;
  };
  const per =
    (samples: (s: OperatorAlertState) => [labels: Record<string, string>, value: number][]) => async () =>
      (await states()).flatMap((s) => samples(s).map(([labels, value]) => ({ labels, value })));
  const thresholds = (s: OperatorAlertState) => alertThresholds(s.settings as AlertingSettings);

  gauge(
    'tour_import_last_import',
    "1 for the status of the operator's last ended full or delta import (completed, failed, cancelled)",
    ['operator', 'status'],
    per((s) => (s.lastRunStatus ? [[{ operator: s.operatorId, status: s.lastRunStatus }, 1]] : [])),
  );
  gauge(
    'tour_import_delta_mark_age_seconds',
    "Seconds since the operator's delta mark last moved",
    ['operator'],
    per((s) => (s.deltaMarkAgeSeconds === null ? [] : [[{ operator: s.operatorId }, s.deltaMarkAgeSeconds]])),
  );
  gauge(
    'tour_import_delta_mark_max_age_seconds',
    'The delta mark age reported as stale (alerts.deltaMarkMaxAge, default 3 schedule intervals)',
    ['operator'],
    per((s) => {
      const ms = thresholds(s).markMaxAgeMs;
      return ms === undefined ? [] : [[{ operator: s.operatorId }, ms / 1000]];
    }),
  );
  gauge(
    'tour_import_failing_runs_in_a_row',
    'Ended full or delta imports in a row, newest first, that failed or had failed tours',
    ['operator'],
    per((s) => [[{ operator: s.operatorId }, s.failingRunsInARow]]),
  );
  gauge(
    'tour_import_failing_runs_threshold',
    'Failing imports in a row that are reported (alerts.failingRuns, default 3)',
    ['operator'],
    per((s) => [[{ operator: s.operatorId }, thresholds(s).failingRuns]]),
  );
}
