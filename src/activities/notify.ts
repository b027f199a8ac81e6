import { Context, log } from '@temporalio/activity';
import { operatorAlertFacts } from '../db/notifications.js';
import { getOperator } from '../db/operators.js';
import type { Queryable } from '../db/pool.js';
import {
  alertThresholds,
  NOTIFY_ATTEMPTS,
  type AlertingSettings,
  type Notification,
} from '../domain/notifications.js';
import { deliver, type NotifyDeps } from '../notify/deliver.js';

/**
 * Sends a notification to the configured sinks. A sink that fails makes the activity fail, so Temporal
 * retries it (the sinks that got it are not sent it again: see the deliveries table); on the last of
 * NOTIFY_ATTEMPTS it is recorded as failed and the activity succeeds, so an import never waits on, or
 * fails for, a sink that is down.
 */
export function createNotifyActivities(deps: NotifyDeps) {
  return {
    async notify(n: Notification) {
      const final = Context.current().info.attempt >= NOTIFY_ATTEMPTS;
      const outcome = await deliver(deps, n, final);
      if (outcome.failed.length) log.warn('notification not delivered', { ...n, failed: outcome.failed });
      if (outcome.retrying.length)
        throw new Error(`notification not delivered to ${outcome.retrying.join(', ')}`);
      return outcome;
    },
  };
}

export type NotifyActivities = ReturnType<typeof createNotifyActivities>;

/** What an ended import has to report beyond its status (docs/operations.md: Notifications). */
export interface ImportAlerts {
  /** Set when exactly this many runs in a row had failures: told once per streak. */
  failingRuns?: number;
  /** When the delta mark last moved, if longer ago than the operator's threshold. */
  staleMarkSince?: string;
}

export async function importAlerts(pool: Queryable, operatorId: string): Promise<ImportAlerts> {
  const op = await getOperator(pool, operatorId);
  if (!op) return {};
  const { failingRuns, markMaxAgeMs } = alertThresholds(op.settings as AlertingSettings);
  const facts = await operatorAlertFacts(pool, { operatorId, upTo: failingRuns + 1, markMaxAgeMs });
  return {
    ...(facts.failingRuns === failingRuns && { failingRuns }),
    ...(facts.staleMarkSince && { staleMarkSince: facts.staleMarkSince.toISOString() }),
  };
}
